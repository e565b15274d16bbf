"""Command line: `ioffice ...` or `flask --app wsgi ...`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from ioffice.audit import AuditContext

CLI_CONTEXT = AuditContext(actor_id=None, agency_id=None, remote_addr="cli")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(agency_group)
    app.cli.add_command(user_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(pki_group)
    app.cli.add_command(trust_group)
    app.cli.add_command(token_group)
    app.cli.add_command(exchange_group)
    app.cli.add_command(ocr_group)
    app.cli.add_command(maintenance_group)
    app.cli.add_command(backup_group)
    app.cli.add_command(serve)
    app.cli.add_command(deploy_files)


def _session():
    from ioffice.db_session import database

    return database(current_app).session()


@click.group("db", help="Lược đồ cơ sở dữ liệu (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Nâng cấp lược đồ lên phiên bản mới nhất.")
@with_appcontext
def db_upgrade() -> None:
    from ioffice import migrate

    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("Đã nâng cấp cơ sở dữ liệu.")


@db_group.command("check", help="Kiểm tra mô hình và lược đồ khớp nhau.")
@with_appcontext
def db_check() -> None:
    from ioffice import migrate

    migrate.check(current_app.config["DATABASE_URL"])
    click.echo("Lược đồ khớp với mô hình.")


@click.group("pki", help="Hạ tầng khóa công khai (mô phỏng Ban Cơ yếu Chính phủ).")
def pki_group() -> None:
    pass


@pki_group.command("init", help="Tạo PKI nếu chưa có (chạy lại không sao).")
@with_appcontext
def pki_init() -> None:
    from pathlib import Path

    from signing import Pki

    directory = Path(current_app.config["PKI_DIR"])
    if (directory / "root.crt").exists():
        Pki.open(directory, current_app.config["PKI_PASSPHRASE"]).refresh_revocation_data()
        click.echo(f"PKI đã có tại {directory}; đã làm mới CRL/OCSP.")
        return
    Pki.create(directory, current_app.config["PKI_PASSPHRASE"],
               public_url=current_app.config.get("PUBLIC_URL"))
    click.echo(f"Đã tạo PKI tại {directory}.")


@pki_group.command("revoke", help="Thu hồi một chứng thư số (số hiệu dạng hex như trong "
                   "thư mục PKI certs/); CRL và OCSP công bố thay đổi ngay.")
@click.argument("serial")
@click.option("--reason", type=click.Choice(["key_compromise", "affiliation_changed", "superseded",
                                             "cessation_of_operation"]),
              default="key_compromise",
              show_default=True, help="Lý do thu hồi.")
@with_appcontext
def pki_revoke(serial: str, reason: str) -> None:
    from ioffice.errors import DomainError
    from ioffice.keys import service as keys
    from ioffice.services import services

    try:
        number = int(serial, 16)
    except ValueError as exc:
        raise click.BadParameter(f"«{serial}» không phải số hiệu hex.") from exc
    try:
        pki = services(current_app).pki
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    with _session() as session:
        try:
            seal = keys.revoke_certificate(session, pki, CLI_CONTEXT, number, reason)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"Đã thu hồi chứng thư số {number:x} ({reason}).")
        if seal is not None:
            click.echo(f"Cơ quan đã có con dấu số mới: chứng thư số {int(seal.serial):x}.")


def _seal_token(code: str):
    from ioffice.services import services

    config = services().seal_tokens.config(code)
    if config is None:
        raise click.ClickException(f"IOFFICE_SEAL_TOKENS không có token cho cơ quan {code}.")
    return config


@pki_group.command("token-provision",
                   help="Tạo khóa con dấu số trong token PKCS#11 của cơ quan (IOFFICE_SEAL_TOKENS), "
                        "cấp chứng thư cho khóa đó và lưu chứng thư vào token.")
@click.option("--agency", "code", required=True, help="Mã định danh cơ quan, ví dụ 000.00.00.H12")
@click.option("--key-type", type=click.Choice(["rsa", "ec"]), default="rsa", show_default=True)
@click.option("--existing-key", is_flag=True,
              help="Không tạo khóa mới: cấp lại chứng thư cho khóa đã có trong token.")
@with_appcontext
def pki_token_provision(code: str, key_type: str, existing_key: bool) -> None:
    from sqlalchemy import select

    from ioffice.agencies.models import Agency
    from ioffice.keys import service as keys
    from ioffice.services import services
    from signing import PkiError
    from signing.pkcs11 import TokenError, generate_token_key, store_certificate, token_csr

    config = _seal_token(code)
    with _session() as session:
        agency = session.scalars(select(Agency).where(Agency.code == code)).first()
        if agency is None:
            raise click.ClickException(f"Không có cơ quan mã {code}.")
        try:
            if not existing_key:
                click.echo(f"Tạo khóa {key_type.upper()} trong token «{config.token_label}»...")
                generate_token_key(config, key_type)
            certificate = services().pki.issue_from_csr(
                token_csr(config, agency.name), kind="seal", agency_id=agency.code,
                agency_name=agency.name)
            store_certificate(config, certificate)
        except (TokenError, PkiError) as exc:
            raise click.ClickException(str(exc)) from exc
        if config.certificate:
            from pathlib import Path

            Path(config.certificate).write_bytes(certificate.dump())
        row = keys.record_token_seal(session, CLI_CONTEXT, agency, certificate)
        session.commit()
    services().seal_tokens.forget(code)
    click.echo(f"Đã cấp chứng thư số {int(row.serial):x} cho con dấu số của {agency.name} "
               f"(khóa {config.key_name} trong token «{config.token_label}»).")
    _register_on_hub(code)


def _register_on_hub(code: str) -> None:
    """The hub's directory learns the new seal certificate now (else the worker does it on its
    next round; until then the hub refuses packages signed with the new key)."""
    from ioffice.exchange.runtime import exchange
    from ioffice.exchange.worker import register_agencies

    try:
        if register_agencies(exchange(current_app), {code}):
            click.echo("Đã đăng ký chứng thư mới với trục liên thông.")
    except Exception as exc:  # the hub down: the worker registers it later
        click.echo(f"Chưa đăng ký được với trục liên thông ({exc}); tiến trình liên thông sẽ "
                   "đăng ký lại.", err=True)


@pki_group.command("token-check",
                   help="Kiểm tra token PKCS#11 của các cơ quan: liệt kê token, khóa, chứng thư "
                        "và ký thử.")
@click.option("--agency", "code", default=None, help="Chỉ cơ quan này (mặc định: mọi cơ quan "
                                                     "có trong IOFFICE_SEAL_TOKENS)")
@with_appcontext
def pki_token_check(code: str | None) -> None:
    from ioffice.services import services
    from signing.pkcs11 import check_token

    tokens = services().seal_tokens
    codes = [code] if code else list(tokens.codes)
    if not codes:
        raise click.ClickException("IOFFICE_SEAL_TOKENS chưa có token nào.")
    failed = False
    for agency_code in codes:
        config = _seal_token(agency_code)
        status = check_token(config)
        click.echo(f"{agency_code}: thư viện {config.module}, token «{config.token_label}», "
                   f"khóa {config.key_name}")
        click.echo(f"  token có trong thư viện: {', '.join(status.tokens) or '(không có)'}")
        for line in status.objects:
            click.echo(f"  {line}")
        if status.signature_ok:
            click.echo(f"  chứng thư: {status.certificate_subject}")
            click.echo("  ký thử: đạt")
        else:
            failed = True
            click.echo(f"  LỖI: {status.error}")
    if failed:
        raise SystemExit(1)


@pki_group.command("retimestamp", help=(
    "Thêm dấu thời gian lưu trữ cho văn bản đi, bản sao đã ký số mà dấu thời gian cuối có chứng thư máy "
    "chủ cấp dấu thời gian sắp hết hạn (tiến trình nền làm việc này hằng ngày)."))
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê văn bản đến hạn, không thay đổi gì.")
@click.option("--days", type=click.FloatRange(min=0), default=None,
              help="Hết hạn trong số ngày này; mặc định IOFFICE_RETIMESTAMP_DAYS (180).")
@with_appcontext
def pki_retimestamp(dry_run: bool, days: float | None) -> None:
    from ioffice.db_session import database
    from ioffice.outgoing import archival
    from ioffice.services import services

    svc = services()
    days = float(current_app.config["RETIMESTAMP_DAYS"]) if days is None else days
    run = archival.retimestamp(lambda: database(current_app).session(), svc.blobs,
                               svc.timestamps, lambda: svc.trust, days=days, dry_run=dry_run)
    ids = ", ".join(str(i) for i in run.due) or "không có"
    copy_ids = ", ".join(str(i) for i in run.copies.due) or "không có"
    record_ids = ", ".join(str(i) for i in run.records.due) or "không có"
    click.echo(f"Văn bản đi đến hạn (dấu thời gian hết hạn trong {days:g} ngày): {ids}.")
    click.echo(f"Bản sao đến hạn: {copy_ids}.")
    click.echo(f"Biên bản giao nhận hồ sơ đến hạn: {record_ids}.")
    if dry_run:
        return
    click.echo(f"Đã thêm dấu thời gian lưu trữ: {len(run.renewed)} văn bản, "
               f"{len(run.copies.renewed)} bản sao, {len(run.records.renewed)} biên bản.")
    for doc_id, why in run.skipped.items():
        click.echo(f"  bỏ qua văn bản {doc_id}: {why}")
    for copy_id, why in run.copies.skipped.items():
        click.echo(f"  bỏ qua bản sao {copy_id}: {why}")
    for handover_id, why in run.records.skipped.items():
        click.echo(f"  bỏ qua biên bản {handover_id}: {why}")
    if run.stopped:
        raise click.ClickException(f"Dừng giữa chừng: {run.stopped}")


@click.group("trust", help="Chứng thư gốc, trung gian được tin cậy (nhập từ tệp PEM/DER).")
def trust_group() -> None:
    pass


@trust_group.command("import", help="Nhập chứng thư gốc hoặc trung gian từ tệp PEM (một hay "
                                    "nhiều chứng thư) hoặc DER.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def trust_import(path: Path) -> None:
    from ioffice.trust import service as trust

    with path.open("rb") as f:
        data = f.read(trust.MAX_FILE_BYTES + 1)
    with _session() as session:
        try:
            result = trust.import_certificates(session, CLI_CONTEXT, data, filename=path.name)
        except trust.TrustAnchorError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(result.message)
        for row in result.added:
            click.echo(f"  {row.fingerprint}  {row.subject}")


@trust_group.command("list", help="Liệt kê chứng thư đã nhập.")
@with_appcontext
def trust_list() -> None:
    import datetime as dt

    from ioffice.trust import service as trust

    now = dt.datetime.now(dt.UTC)
    with _session() as session:
        rows = trust.list_anchors(session)
        if not rows:
            click.echo("Chưa nhập chứng thư nào.")
        for row in rows:
            kind = "gốc" if row.is_root else "trung gian"
            state = " ĐÃ HẾT HẠN" if row.not_after <= now else ""
            click.echo(f"{row.id}\t{kind}\t{row.not_before:%d/%m/%Y}-{row.not_after:%d/%m/%Y}"
                       f"{state}\t{row.fingerprint}\t{row.subject}")


@trust_group.command("remove", help="Gỡ một chứng thư: theo số thứ tự (trust list) hoặc dấu "
                                    "vân tay SHA-256 (ít nhất 8 ký tự đầu).")
@click.argument("which")
@with_appcontext
def trust_remove(which: str) -> None:
    from ioffice.errors import NotFound
    from ioffice.trust import service as trust

    with _session() as session:
        row = trust.find(session, which)
        if row is None:
            raise click.ClickException(f"Không tìm thấy đúng một chứng thư «{which}» "
                                       "(xem `trust list`).")
        try:
            trust.remove(session, CLI_CONTEXT, row.id)
        except NotFound as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"Đã gỡ chứng thư «{row.subject}» ({row.fingerprint}).")


@click.group("demo", help="Dữ liệu mẫu: tỉnh Cà Mau.")
def demo_group() -> None:
    pass


@demo_group.command("load", help="Nạp dữ liệu mẫu (chạy lại nhiều lần không sao).")
@click.option("--password", envvar="IOFFICE_DEMO_PASSWORD", default=None,
              help="Mật khẩu cho mọi tài khoản mẫu (mặc định: sinh ngẫu nhiên, lưu trong instance/).")
@with_appcontext
def demo_load(password: str | None) -> None:
    from ioffice import demo

    with _session() as session:
        from ioffice.services import services

        result = demo.load(session, password=password, instance_path=current_app.instance_path,
                           pki=services().pki)
        session.commit()
    click.echo(f"Dữ liệu mẫu: {result.agencies_created} cơ quan mới, "
               f"{result.users_created} tài khoản mới.")
    click.echo(demo.logins_text(result))


@click.group("agency", help="Cơ quan và phòng ban.")
def agency_group() -> None:
    pass


@agency_group.command("create")
@click.option("--code", required=True, help="Mã định danh, ví dụ 000.00.00.H12")
@click.option("--name", required=True)
@click.option("--short-name", required=True, help="Viết tắt trong ký hiệu văn bản, ví dụ UBND")
@click.option("--parent", "parent_code", default=None, help="Mã định danh cơ quan cấp trên")
@click.option("--email", default="")
@click.option("--address", default="")
@with_appcontext
def agency_create(code: str, name: str, short_name: str, parent_code: str | None, email: str,
                  address: str) -> None:
    from ioffice.agencies import service

    with _session() as session:
        try:
            agency = service.create_agency(session, CLI_CONTEXT, service.AgencyInput(
                code=code, name=name, short_name=short_name, parent_code=parent_code,
                email=email, address=address))
        except service.AgencyError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"Đã tạo {agency.name} ({agency.code}, cấp {agency.level.label}).")


@agency_group.command("add-department")
@click.option("--agency", "agency_code", required=True)
@click.option("--name", required=True)
@click.option("--short-name", required=True)
@with_appcontext
def department_create(agency_code: str, name: str, short_name: str) -> None:
    from ioffice.agencies import service

    with _session() as session:
        agency = service.get_agency_by_code(session, agency_code)
        if agency is None:
            raise click.ClickException(f"Không tìm thấy cơ quan có mã {agency_code}.")
        try:
            dept = service.create_department(session, CLI_CONTEXT, agency.id, name, short_name)
        except service.AgencyError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"Đã tạo phòng ban {dept.name} ({dept.short_name}).")


@click.group("user", help="Tài khoản người dùng.")
def user_group() -> None:
    pass


@user_group.command("create")
@click.option("--agency", "agency_code", required=True)
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--position", default="")
@click.option("--department", "department_short", default=None, help="Viết tắt của phòng ban")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["clerk", "leader", "department_head", "specialist", "admin"]))
@click.password_option()
@with_appcontext
def user_create(agency_code: str, username: str, full_name: str, position: str,
                department_short: str | None, roles: tuple[str, ...], password: str) -> None:
    from sqlalchemy import select

    from ioffice.agencies import service
    from ioffice.agencies.models import Department, Role

    with _session() as session:
        agency = service.get_agency_by_code(session, agency_code)
        if agency is None:
            raise click.ClickException(f"Không tìm thấy cơ quan có mã {agency_code}.")
        dept_id = None
        if department_short:
            dept_id = session.scalar(select(Department.id).where(
                Department.agency_id == agency.id, Department.short_name == department_short.upper()))
            if dept_id is None:
                raise click.ClickException(f"{agency.name} không có phòng ban {department_short}.")
        try:
            user = service.create_user(session, CLI_CONTEXT, agency_id=agency.id, username=username,
                                       full_name=full_name, password=password,
                                       roles=[Role(r) for r in roles], department_id=dept_id,
                                       position_title=position)
        except service.AgencyError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"Đã tạo tài khoản {user.username}.")


@user_group.command("deactivate", help="Khóa tài khoản: không đăng nhập được nữa, mọi phiên "
                                        "đăng nhập và mã truy cập API của nó hết hiệu lực.")
@click.argument("username")
@with_appcontext
def user_deactivate(username: str) -> None:
    from ioffice.agencies import service
    from ioffice.errors import NotFound

    with _session() as session:
        try:
            user = service.deactivate_user(session, CLI_CONTEXT, username)
        except NotFound as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"Đã khóa tài khoản {user.username}; mọi phiên đăng nhập của tài khoản đã kết thúc.")


def _operator_and_user(session, username: str, agency_code: str | None):
    """The console operator acting as admin of the user's agency (``--agency``, or the user's
    only or first agency), and the user's id."""
    from ioffice.agencies import service
    from ioffice.agencies.actor import Actor

    user = service.get_user_by_username(session, username)
    if user is None:
        raise click.ClickException(f"Không tìm thấy tài khoản «{username.strip()}».")
    if agency_code:
        agency = service.get_agency_by_code(session, agency_code)
        if agency is None:
            raise click.ClickException(f"Không tìm thấy cơ quan có mã {agency_code}.")
        agency_id = agency.id
    elif user.memberships:
        agency_id = min(m.agency_id for m in user.memberships)
    else:
        raise click.ClickException(f"Tài khoản {user.username} không thuộc cơ quan nào.")
    return Actor.operator(agency_id), user.id


def _member_action(username: str, agency_code: str | None, action):
    from ioffice.errors import DomainError

    with _session() as session:
        actor, user_id = _operator_and_user(session, username, agency_code)
        try:
            result = action(session, actor, user_id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        return result


_AGENCY_OPTION = click.option("--agency", "agency_code", default=None,
                              help="Mã cơ quan (khi tài khoản thuộc nhiều cơ quan).")


@user_group.command("reactivate", help="Mở lại tài khoản đã ngừng hoạt động (mật khẩu giữ "
                                        "nguyên; đặt lại bằng `user reset-password` nếu cần).")
@click.argument("username")
@_AGENCY_OPTION
@with_appcontext
def user_reactivate(username: str, agency_code: str | None) -> None:
    from ioffice.agencies import members

    user = _member_action(username, agency_code, members.reactivate)
    click.echo(f"Đã mở lại tài khoản {user.username}.")


@user_group.command("reset-password", help=(
    "Đặt mật khẩu tạm thời (in ra một lần); người dùng phải đổi ở lần đăng nhập tới. Mọi phiên "
    "đăng nhập kết thúc, khóa đăng nhập do nhập sai được gỡ."))
@click.argument("username")
@_AGENCY_OPTION
@with_appcontext
def user_reset_password(username: str, agency_code: str | None) -> None:
    from ioffice.agencies import members

    password = _member_action(username, agency_code, members.reset_password)
    click.echo(f"Mật khẩu tạm thời của {username.strip().lower()}: {password}")
    click.echo("Người dùng phải đổi mật khẩu này ở lần đăng nhập tới.")


@user_group.command("unlock", help="Gỡ khóa đăng nhập do nhập sai mật khẩu và khóa PIN ký số.")
@click.argument("username")
@_AGENCY_OPTION
@with_appcontext
def user_unlock(username: str, agency_code: str | None) -> None:
    from ioffice.agencies import members

    cleared = _member_action(username, agency_code, members.unlock)
    words = {"login": "khóa đăng nhập", "pin": "khóa PIN ký số"}
    click.echo(f"Đã gỡ {', '.join(words[c] for c in cleared)} của {username.strip().lower()}.")


@click.group("audit", help="Nhật ký kiểm toán.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Kiểm tra chuỗi băm của nhật ký; mã thoát 1 nếu bị sửa.")
@click.option("--no-chain", is_flag=True,
              help="Không nối các sự kiện đang chờ vào chuỗi trước khi kiểm tra.")
@with_appcontext
def audit_verify(no_chain: bool) -> None:
    from sqlalchemy import func, select

    from ioffice.audit import pending_count, verify_chain
    from ioffice.audit.models import AuditEvent

    if not no_chain:
        _chain_audit()
    with _session() as session:
        problems = verify_chain(session)
        total = session.scalar(select(func.count(AuditEvent.id)))
        pending = pending_count(session)
    if problems:
        for p in problems:
            where = f"sự kiện #{p.seq}" if p.seq else "sự kiện chờ nối chuỗi"
            click.echo(f"[{p.chain}] {where} (id {p.event_id}): {p.message}", err=True)
        raise SystemExit(1)
    click.echo(f"Nhật ký nguyên vẹn: {total} sự kiện"
               + (f" ({pending} sự kiện đọc đang chờ nối chuỗi)." if pending else "."))


@audit_group.command("chain", help="Nối các sự kiện đọc đang chờ vào chuỗi băm (tiến trình "
                                   "trao đổi làm việc này sau mỗi vòng).")
@with_appcontext
def audit_chain() -> None:
    click.echo(f"Đã nối {_chain_audit()} sự kiện vào chuỗi.")


def _chain_audit() -> int:
    from ioffice.audit import chain_pending

    total = 0
    with _session() as session:
        while chained := chain_pending(session):
            session.commit()
            total += chained
    return total


@click.group("token", help="Mã truy cập (token) cho API /api/v1.")
def token_group() -> None:
    pass


@token_group.command("create", help="Cấp mã truy cập; mã chỉ hiện một lần, hãy lưu lại ngay.")
@click.option("--username", required=True)
@click.option("--agency", "agency_code", default=None,
              help="Mã định danh cơ quan mà mã truy cập thay mặt (bắt buộc nếu kiêm nhiệm nhiều nơi)")
@click.option("--name", required=True, help="Tên gợi nhớ, ví dụ hệ thống sẽ dùng mã này")
@click.option("--scope", "scopes", multiple=True, default=("read", "write"), show_default=True,
              help="Phạm vi: read, write, sign, admin (lặp lại hoặc ngăn bằng dấu phẩy)")
@click.option("--expires", default="", help="Hạn dùng: số ngày (90d) hoặc ngày YYYY-MM-DD; "
                                            "bỏ trống: đến khi thu hồi")
@with_appcontext
def token_create(username: str, agency_code: str | None, name: str, scopes: tuple[str, ...],
                 expires: str) -> None:
    from ioffice.agencies import service
    from ioffice.api import tokens
    from ioffice.errors import DomainError

    with _session() as session:
        user = service.get_user_by_username(session, username)
        if user is None:
            raise click.ClickException(f"Không tìm thấy tài khoản {username}.")
        if agency_code:
            agency = service.get_agency_by_code(session, agency_code)
            if agency is None:
                raise click.ClickException(f"Không tìm thấy cơ quan có mã {agency_code}.")
            agency_id = agency.id
        elif len(user.memberships) == 1:
            agency_id = user.memberships[0].agency_id
        else:
            raise click.ClickException(f"{username} thuộc {len(user.memberships)} cơ quan; "
                                       "chọn một bằng --agency.")
        try:
            issued = tokens.issue(session, CLI_CONTEXT, user=user, agency_id=agency_id, name=name,
                                  scopes=scopes, expires_at=tokens.parse_expiry(expires))
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
    until = (f", hết hạn {issued.token.expires_at.isoformat(timespec='minutes')} UTC"
             if issued.token.expires_at else "")
    click.echo(f"Đã cấp mã truy cập «{issued.token.name}» ({issued.token.prefix}) cho {username}, "
               f"phạm vi {issued.token.scopes}{until}. Mã chỉ hiện một lần:", err=True)
    click.echo(issued.secret)


@token_group.command("revoke", help="Thu hồi mã truy cập theo phần đầu của nó (xem `token list`).")
@click.argument("prefix")
@with_appcontext
def token_revoke(prefix: str) -> None:
    from ioffice.api import tokens
    from ioffice.errors import DomainError

    with _session() as session:
        try:
            token = tokens.revoke(session, CLI_CONTEXT, prefix)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
    click.echo(f"Đã thu hồi mã truy cập {token.prefix} «{token.name}».")


@token_group.command("list", help="Liệt kê mã truy cập (không hiện mã đầy đủ).")
@click.option("--username", default=None)
@with_appcontext
def token_list(username: str | None) -> None:
    from ioffice.agencies import service
    from ioffice.api import tokens

    with _session() as session:
        user = None
        if username:
            user = service.get_user_by_username(session, username)
            if user is None:
                raise click.ClickException(f"Không tìm thấy tài khoản {username}.")
        for token, owner in tokens.list_tokens(session, user):
            used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "chưa dùng"
            state = "đã thu hồi" if token.revoked_at else "hiệu lực"
            until = (token.expires_at.isoformat(timespec="minutes") if token.expires_at
                     else "không hạn")
            click.echo(f"{token.prefix}  {owner}  «{token.name}»  {token.scopes}  {state}  "
                       f"hết hạn: {until}  lần dùng cuối: {used}")


def main() -> None:
    """The ``ioffice`` command. prometheus-client in multiprocess mode writes into
    ``PROMETHEUS_MULTIPROC_DIR`` as soon as the app's metrics are defined: a folder the
    environment names (the web unit's, under /run) is created first."""
    import os

    from ioffice import create_app

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    FlaskGroup(create_app=lambda: create_app())(prog_name="ioffice")


@click.group("ocr", help="Nhận dạng chữ trên bản quét (docs/ocr.md).")
def ocr_group() -> None:
    pass


@ocr_group.command("run", help="Nhận dạng chữ các bản quét đang chờ (việc của exchange worker; "
                               "lệnh này cho máy không chạy liên thông hoặc để chạy bù).")
@click.option("--once", is_flag=True, help="Làm hết hàng chờ rồi thoát.")
@with_appcontext
def ocr_run(once: bool) -> None:
    import time

    from ioffice.db_session import database
    from ioffice.ocr import engine, service
    from ioffice.services import services

    problem = engine.problem()
    if problem:
        click.echo(problem, err=True)
    factory, blobs = database(current_app).session, services(current_app).blobs
    done = 0
    while True:
        job_id = service.run_next(factory, blobs)
        if job_id is not None:
            done += 1
            continue
        if once:
            break
        time.sleep(3)
    click.echo(f"{done} bản quét đã xử lý.")


@click.group("exchange", help="Liên thông văn bản qua trục (docs/exchange.md).")
def exchange_group() -> None:
    pass


@exchange_group.command("worker", help="Gửi gói tin chờ gửi, nhận gói tin từ các trục; lặp đến khi dừng.")
@click.option("--once", is_flag=True, help="Chạy một vòng rồi thoát.")
@click.option("--with-hubs", is_flag=True, help="Chạy cả bộ chuyển tiếp của các trục demo.")
@with_appcontext
def exchange_worker(once: bool, with_hubs: bool) -> None:
    import threading

    from ioffice.startup import check_or_exit

    check_or_exit(current_app)

    from ioffice.exchange import exchange
    from ioffice.exchange.worker import refresh_directory, run_forever, run_once

    rt = exchange(current_app)
    if not rt.hubs:
        raise click.ClickException("Chưa cấu hình IOFFICE_EXCHANGE_HUBS (hoặc chạy exchange setup-demo).")
    if with_hubs:
        import wsgi

        wsgi.start_background()
        threading.Event().wait()
    if once:
        report = run_once(rt)
        click.echo(f"gửi {report.sent}, nhận {report.received}, trạng thái {report.statuses}, "
                   f"thử lại {report.retried}, lỗi {report.dead + report.refused}")
        return
    try:
        refresh_directory(rt)
    except Exception as exc:  # the hubs may start later; the loop retries
        click.echo(f"Chưa lấy được danh bạ: {exc}", err=True)
    run_forever(rt, threading.Event())


@exchange_group.command("setup-demo", help="Tạo CSDL hai trục demo, kết nối hệ thống, đăng ký cơ quan.")
@with_appcontext
def exchange_setup_demo() -> None:
    from ioffice.exchange import demo_run

    with _session() as session:
        cards = demo_run.setup(current_app, session)
        session.commit()
    click.echo(f"Trục demo: {len(cards)} cơ quan đã đăng ký (tỉnh: {demo_run.PROVINCIAL_PATH}, "
               f"quốc gia: {demo_run.NATIONAL_PATH}).")


@exchange_group.command("sync-directory", help="Tải danh bạ cơ quan từ các trục (getAgenciesList).")
@with_appcontext
def exchange_sync_directory() -> None:
    from ioffice.exchange import exchange
    from ioffice.exchange.worker import refresh_directory

    click.echo(f"{refresh_directory(exchange(current_app))} cơ quan trong danh bạ.")


@click.group("maintenance", help="Dọn dẹp kho lưu trữ.")
def maintenance_group() -> None:
    pass


@maintenance_group.command("cleanup", help=(
    "Xóa tệp tải lên dở dang, tệp không còn bản ghi nào tham chiếu và ảnh xem trước của chúng, "
    "cũ hơn thời gian chờ, và tệp giữ lại cho biểu mẫu bị từ chối đã quá "
    "IOFFICE_HELD_UPLOAD_HOURS. Tệp có bản ghi tham chiếu không bao giờ bị xóa."))
@click.option("--dry-run", is_flag=True, help="Chỉ liệt kê, không xóa.")
@click.option("--grace-hours", type=click.FloatRange(min=0), default=None,
              help="Thời gian chờ (giờ); mặc định IOFFICE_CLEANUP_GRACE_HOURS (24).")
@click.option("--list", "show", is_flag=True, help="In từng mục đã xóa.")
@with_appcontext
def maintenance_cleanup(dry_run: bool, grace_hours: float | None, show: bool) -> None:
    import datetime as dt

    from ioffice import maintenance

    hours = float(current_app.config["CLEANUP_GRACE_HOURS"]) if grace_hours is None else grace_hours
    with _session() as session:
        removed = maintenance.cleanup(session, current_app.extensions["ioffice.services"].blobs,
                                      now=dt.datetime.now(dt.UTC),
                                      grace=dt.timedelta(hours=hours), dry_run=dry_run,
                                      held_ttl=dt.timedelta(
                                          hours=float(current_app.config["HELD_UPLOAD_HOURS"])))
    click.echo(maintenance_report(removed, dry_run=dry_run, hours=hours, show=show))


def maintenance_report(removed, *, dry_run: bool, hours: float, show: bool) -> str:
    verb = "Sẽ xóa" if dry_run else "Đã xóa"
    names = {"blob": "tệp không còn tham chiếu", "preview": "ảnh xem trước",
             "temporary": "tệp tạm", "held": "tệp giữ cho biểu mẫu đã hết hạn"}
    counts = ", ".join(f"{sum(1 for r in removed if r.kind == kind)} {label}"
                       for kind, label in names.items())
    size = sum(r.size for r in removed)
    lines = [f"{verb} {counts} ({size} byte), cũ hơn {hours:g} giờ."]
    if show:
        lines += [f"  {r.kind}\t{r.key}\t{r.size}\t{r.modified.isoformat()}" for r in removed]
    return "\n".join(lines)


@click.group("backup", help="Sao lưu và khôi phục: cơ sở dữ liệu, mọi tệp và thư mục PKI.")
def backup_group() -> None:
    pass


@backup_group.command("create", help="Sao lưu vào thư mục DIR (mới hoặc trống), kèm mã băm "
                                      "SHA-256 của mọi tệp trong manifest.json.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_create(folder: Path) -> None:
    from ioffice import backup

    try:
        summary = backup.create(current_app, folder, progress=click.echo)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã sao lưu vào {folder}: cơ sở dữ liệu {summary.database}, {summary.blobs} tệp "
               f"văn bản, {summary.named} tệp phụ, {summary.pki_files} tệp PKI "
               f"({summary.bytes} byte). Giữ riêng mật khẩu PKI và khóa bí mật.")


@backup_group.command("restore", help="Khôi phục từ thư mục DIR sau khi kiểm tra mọi mã băm; "
                                       "từ chối nếu nơi đích đã có dữ liệu, trừ khi --force.")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ghi đè cơ sở dữ liệu, kho tệp và PKI đang có.")
@with_appcontext
def backup_restore(folder: Path, force: bool) -> None:
    from ioffice import backup

    try:
        summary = backup.restore(current_app, folder, force=force, progress=click.echo)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã khôi phục từ {folder}: {summary.blobs} tệp văn bản, {summary.named} tệp phụ, "
               f"{summary.pki_files} tệp PKI. Kiểm tra: `audit verify`.")


def _default_workers() -> int:
    import os

    return min(2 * (os.cpu_count() or 1) + 1, 8)


@click.command("serve", context_settings={"ignore_unknown_options": True}, help=(
    "Chạy dịch vụ web (gunicorn, cấu hình ioffice.exchange.gunicorn_hooks: kiểm tra khởi động, "
    "số đo Prometheus). Tham số sau `--` được chuyển nguyên cho gunicorn."))
@click.option("--bind", default="127.0.0.1:8000", show_default=True,
              help="Địa chỉ lắng nghe (nginx chuyển tiếp tới đây).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Số tiến trình (mặc định 2 × số lõi + 1, tối đa 8).")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True,
              help="Số luồng mỗi tiến trình.")
@click.option("--timeout", type=click.IntRange(min=1), default=120, show_default=True,
              help="Giây trước khi một yêu cầu treo bị dừng (chuyển PDF có thể lâu).")
@click.argument("gunicorn_args", nargs=-1, type=click.UNPROCESSED)
def serve(bind: str, workers: int | None, threads: int, timeout: int,
          gunicorn_args: tuple[str, ...]) -> None:
    """Replaces this process by gunicorn (systemd sees one main process; SIGHUP reloads)."""
    import os
    import sys

    argv = [sys.executable, "-m", "gunicorn", "--config", "python:ioffice.exchange.gunicorn_hooks",
            "--worker-class", "ioffice.web.gunicorn_worker.HeadDeadlineWorker",
            "--bind", bind, "--workers", str(workers or _default_workers()), "--threads", str(threads),
            "--timeout", str(timeout), "--graceful-timeout", "30", *gunicorn_args,
            "ioffice.wsgi:application"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


DEPLOY_FILES = ("ioffice-web.service", "ioffice-worker.service", "ioffice.env.example",
                "nginx-ioffice.conf")


def render_deploy_file(name: str, *, venv: str, bind: str) -> str:
    """One of ``ioffice/deploy/``'s files with this installation's paths filled in."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    text = (here / "deploy" / name).read_text(encoding="utf-8")
    return (text.replace("@VENV@", venv).replace("@BIND@", bind)
            .replace("@STATIC@", str(here / "web" / "static")))


@click.command("deploy-files", help=(
    "Ghi các tệp triển khai vào DIR: đơn vị systemd cho dịch vụ web và tiến trình liên thông, "
    "tệp cấu hình mẫu, cấu hình nginx (docs/deploy.md)."))
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--venv", default=None,
              help="Môi trường Python đã cài iOffice (mặc định: môi trường đang chạy).")
@click.option("--bind", default="127.0.0.1:8000", show_default=True,
              help="Địa chỉ của dịch vụ web (ioffice serve --bind).")
def deploy_files(directory: str, venv: str | None, bind: str) -> None:
    import sys
    from pathlib import Path

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for name in DEPLOY_FILES:
        (target / name).write_text(render_deploy_file(name, venv=venv or sys.prefix, bind=bind),
                                   encoding="utf-8")
        click.echo(str(target / name))
