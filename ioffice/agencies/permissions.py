"""Who may do what: every operation a person can do, and the one table of the roles allowed.

The web pages, the API and the service layer all ask this table (``Actor.check(op)``,
``@operation(op)``, the API routes' ``operation=``), so one rule serves them all. The role table
only says whether a role may attempt an operation at all; which document it may act on is the
object rule of each capability (``ioffice.outgoing.access``, ``ioffice.incoming.access``):
someone who cannot read a document cannot act on it, and is told it does not exist.
docs/roles.md is rendered from this table (a test keeps them equal).
"""

from __future__ import annotations

import enum

from ioffice.agencies.models import Role

__all__ = ["ALL_ROLES", "RULES", "Op", "allowed", "render_markdown"]


class Op(enum.StrEnum):
    # incoming
    READ_INCOMING = "incoming.read"
    REGISTER_INCOMING = "incoming.register"
    REJECT_INCOMING = "incoming.reject"
    VIEW_TO_REGISTER = "incoming.queue.to-register"
    VIEW_TO_DISTRIBUTE = "incoming.queue.to-distribute"
    VIEW_TO_HANDLE = "incoming.queue.to-handle"
    DISTRIBUTE = "incoming.distribute"
    PASS_ON = "incoming.assignment.pass-on"
    HANDLE_ASSIGNMENT = "incoming.assignment.handle"
    DECIDE_EXTENSION = "incoming.assignment.decide-extension"
    VIEW_INCOMING_REGISTER = "incoming.register-book.view"
    EXPORT_INCOMING_REGISTER = "incoming.register-book.export"
    FOLLOW_UP = "incoming.follow-up"
    CHASE = "incoming.chase"
    # outgoing
    READ_OUTGOING = "outgoing.read"
    DRAFT_OUTGOING = "outgoing.draft"
    UPLOAD_VERSION = "outgoing.draft.upload"
    COMMENT_OUTGOING = "outgoing.comment"
    SUBMIT_DRAFT = "outgoing.review.submit"
    WITHDRAW_DRAFT = "outgoing.review.withdraw"
    REVIEW = "outgoing.review.approve-or-return"
    SIGN = "outgoing.sign"
    PLACE_SIGNATURE = "outgoing.sign.place"
    ISSUE_BROWSER_KEY = "outgoing.sign.browser-key"
    NUMBER = "outgoing.number"
    SEAL = "outgoing.seal"
    DISPATCH = "outgoing.dispatch"
    REVOKE = "outgoing.revoke"
    SEND_UPDATE = "outgoing.update"
    REPLACE = "outgoing.replace"
    VIEW_OUTGOING_REGISTER = "outgoing.register-book.view"
    EXPORT_OUTGOING_REGISTER = "outgoing.register-book.export"
    # copies (sao y, sao lục, trích sao)
    REQUEST_COPY = "copies.request"
    MAKE_COPY = "copies.make"
    VIEW_COPIES = "copies.view"
    # exchange over the axis
    VIEW_EXCHANGE = "exchange.view"
    RETRY_EXCHANGE = "exchange.retry"
    DECIDE_EXCHANGE_REQUEST = "exchange.decide"
    # dashboards and the work calendar
    VIEW_DASHBOARD = "dashboard.agency"
    VIEW_PROVINCE_DASHBOARD = "dashboard.province"
    VIEW_CALENDAR = "calendar.view"
    EDIT_CALENDAR = "calendar.edit"
    # records and archives (Decree 30, chapter IV)
    VIEW_RECORDS = "records.view"
    EDIT_FILE_LIST = "records.file-list.edit"
    APPROVE_FILE_LIST = "records.file-list.approve"
    KEEP_DOSSIER = "records.dossier.keep"
    HAND_OVER = "records.hand-over"
    RECEIVE_RECORDS = "records.archive.receive"
    VIEW_RETENTION = "records.retention.view"
    PROPOSE_DESTRUCTION = "records.destruction.propose"
    APPROVE_DESTRUCTION = "records.destruction.approve"
    LEGAL_HOLD = "records.legal-hold"
    # search, keys, administration
    SEARCH = "search"
    OWN_KEYS = "keys.own"
    ADMIN_KEYS = "admin.keys"
    ADMIN_DEPARTMENTS = "admin.departments"
    ADMIN_USERS = "admin.users"
    ADMIN_REVIEW_CHAIN = "admin.review-chain"
    ADMIN_AGENCIES = "admin.agencies"
    ADMIN_STUCK_WORK = "admin.stuck-work"
    ADMIN_AUDIT = "admin.audit"
    ADMIN_TRUST_ANCHORS = "admin.trust-anchors"
    ADMIN_NOTIFICATIONS = "admin.notifications"

    @property
    def label(self) -> str:
        return LABELS[self]


ALL_ROLES = frozenset(Role)
_DRAFTERS = frozenset({Role.SPECIALIST, Role.DEPARTMENT_HEAD, Role.CLERK, Role.LEADER})
C, L, H, A = Role.CLERK, Role.LEADER, Role.DEPARTMENT_HEAD, Role.ADMIN
ARCHIVE = Role.ARCHIVIST

RULES: dict[Op, frozenset[Role]] = {
    Op.READ_INCOMING: ALL_ROLES,
    Op.REGISTER_INCOMING: frozenset({C}),
    Op.REJECT_INCOMING: frozenset({C}),
    Op.VIEW_TO_REGISTER: frozenset({C}),
    Op.VIEW_TO_DISTRIBUTE: frozenset({L}),
    Op.VIEW_TO_HANDLE: ALL_ROLES,
    Op.DISTRIBUTE: frozenset({L}),
    Op.PASS_ON: frozenset({H}),
    Op.HANDLE_ASSIGNMENT: ALL_ROLES,
    Op.DECIDE_EXTENSION: frozenset({L, H}),
    Op.VIEW_INCOMING_REGISTER: frozenset({C, L}),
    Op.EXPORT_INCOMING_REGISTER: frozenset({C, L}),
    Op.FOLLOW_UP: frozenset({C, L}),
    Op.CHASE: frozenset({L}),
    Op.READ_OUTGOING: ALL_ROLES,
    Op.DRAFT_OUTGOING: _DRAFTERS,
    Op.UPLOAD_VERSION: _DRAFTERS,
    Op.COMMENT_OUTGOING: ALL_ROLES,
    Op.SUBMIT_DRAFT: _DRAFTERS,
    Op.WITHDRAW_DRAFT: _DRAFTERS,
    Op.REVIEW: frozenset({H, C, L}),
    Op.SIGN: frozenset({L}),
    Op.PLACE_SIGNATURE: frozenset({L}),
    Op.ISSUE_BROWSER_KEY: frozenset({L}),
    Op.NUMBER: frozenset({C}),
    Op.SEAL: frozenset({C}),
    Op.DISPATCH: frozenset({C}),
    Op.REVOKE: frozenset({C}),
    Op.SEND_UPDATE: frozenset({C}),
    Op.REPLACE: _DRAFTERS,
    Op.VIEW_OUTGOING_REGISTER: frozenset({C, L}),
    Op.EXPORT_OUTGOING_REGISTER: frozenset({C, L}),
    Op.REQUEST_COPY: frozenset({C, L}),
    Op.MAKE_COPY: frozenset({C}),
    Op.VIEW_COPIES: frozenset({C, L}),
    Op.VIEW_EXCHANGE: frozenset({C, L}),
    Op.RETRY_EXCHANGE: frozenset({C}),
    Op.DECIDE_EXCHANGE_REQUEST: frozenset({C}),
    Op.VIEW_DASHBOARD: frozenset({C, L}),
    Op.VIEW_PROVINCE_DASHBOARD: frozenset({A}),
    Op.VIEW_CALENDAR: ALL_ROLES,
    Op.EDIT_CALENDAR: frozenset({C}),
    Op.VIEW_RECORDS: ALL_ROLES,
    Op.EDIT_FILE_LIST: frozenset({C}),
    Op.APPROVE_FILE_LIST: frozenset({L}),
    Op.KEEP_DOSSIER: _DRAFTERS,
    Op.HAND_OVER: _DRAFTERS,
    Op.RECEIVE_RECORDS: frozenset({ARCHIVE}),
    Op.VIEW_RETENTION: frozenset({ARCHIVE, L, C}),
    Op.PROPOSE_DESTRUCTION: frozenset({ARCHIVE}),
    Op.APPROVE_DESTRUCTION: frozenset({L}),
    Op.LEGAL_HOLD: frozenset({ARCHIVE, L}),
    Op.SEARCH: ALL_ROLES,
    Op.OWN_KEYS: ALL_ROLES,
    Op.ADMIN_KEYS: frozenset({A}),
    Op.ADMIN_DEPARTMENTS: frozenset({A}),
    Op.ADMIN_USERS: frozenset({A}),
    Op.ADMIN_REVIEW_CHAIN: frozenset({A}),
    Op.ADMIN_AGENCIES: frozenset({A}),
    Op.ADMIN_STUCK_WORK: frozenset({A}),
    Op.ADMIN_AUDIT: frozenset({A}),
    Op.ADMIN_TRUST_ANCHORS: frozenset({A}),
    Op.ADMIN_NOTIFICATIONS: frozenset({A}),
}

LABELS: dict[Op, str] = {
    Op.READ_INCOMING: "Xem văn bản đến (theo quy tắc xem của từng văn bản)",
    Op.REGISTER_INCOMING: "Vào sổ văn bản đến",
    Op.REJECT_INCOMING: "Từ chối văn bản điện tử nhận qua trục",
    Op.VIEW_TO_REGISTER: "Xem danh sách văn bản chờ vào sổ",
    Op.VIEW_TO_DISTRIBUTE: "Xem danh sách văn bản chờ phân phối",
    Op.VIEW_TO_HANDLE: "Xem việc cần xử lý của mình",
    Op.DISTRIBUTE: "Phân phối văn bản đến",
    Op.PASS_ON: "Giao tiếp việc cho người trong phòng",
    Op.HANDLE_ASSIGNMENT: "Xử lý việc được giao (tiến độ, xin gia hạn, hoàn thành, trả lại)",
    Op.DECIDE_EXTENSION: "Duyệt hoặc từ chối gia hạn",
    Op.VIEW_INCOMING_REGISTER: "Xem sổ văn bản đến",
    Op.EXPORT_INCOMING_REGISTER: "Xuất sổ văn bản đến (XLSX)",
    Op.FOLLOW_UP: "Theo dõi tình hình xử lý",
    Op.CHASE: "Đôn đốc xử lý một việc được giao hoặc các việc của một đơn vị",
    Op.READ_OUTGOING: "Xem văn bản đi (theo quy tắc xem của từng văn bản)",
    Op.DRAFT_OUTGOING: "Soạn dự thảo văn bản đi",
    Op.UPLOAD_VERSION: "Tải lên phiên bản dự thảo",
    Op.COMMENT_OUTGOING: "Góp ý dự thảo",
    Op.SUBMIT_DRAFT: "Trình duyệt dự thảo",
    Op.WITHDRAW_DRAFT: "Rút lại dự thảo đã trình (khi chưa ai duyệt)",
    Op.REVIEW: "Duyệt hoặc trả lại dự thảo (ở bước của mình)",
    Op.SIGN: "Ký số văn bản (người được giao ký)",
    Op.PLACE_SIGNATURE: "Chọn vị trí chữ ký",
    Op.ISSUE_BROWSER_KEY: "Tạo khóa ký trên trình duyệt",
    Op.NUMBER: "Cấp số văn bản đi",
    Op.SEAL: "Ký số của cơ quan",
    Op.DISPATCH: "Phát hành văn bản đi",
    Op.REVOKE: "Thu hồi văn bản đã phát hành",
    Op.SEND_UPDATE: "Gửi cập nhật văn bản đã phát hành",
    Op.REPLACE: "Tạo văn bản thay thế",
    Op.VIEW_OUTGOING_REGISTER: "Xem sổ văn bản đi",
    Op.EXPORT_OUTGOING_REGISTER: "Xuất sổ văn bản đi (XLSX)",
    Op.REQUEST_COPY: "Quyết định sao văn bản (lãnh đạo; văn thư ghi lại quyết định của lãnh đạo)",
    Op.MAKE_COPY: "Thực hiện bản sao (sao y, sao lục, trích sao) và ký số của cơ quan",
    Op.VIEW_COPIES: "Xem bản sao và sổ đăng ký bản sao",
    Op.VIEW_EXCHANGE: "Xem tình hình trao đổi qua trục",
    Op.RETRY_EXCHANGE: "Gửi lại gói tin lỗi",
    Op.DECIDE_EXCHANGE_REQUEST: "Đồng ý hoặc từ chối yêu cầu thu hồi, cập nhật, thay thế",
    Op.VIEW_DASHBOARD: "Xem thống kê của cơ quan (biểu đồ, xuất XLSX, PDF)",
    Op.VIEW_PROVINCE_DASHBOARD: "Xem thống kê của mọi cơ quan trong tỉnh (chỉ quản trị của cơ "
                                "quan cấp cao nhất)",
    Op.VIEW_CALENDAR: "Xem lịch công tác đã công bố (và nhận lịch qua iCalendar)",
    Op.EDIT_CALENDAR: "Soạn, sửa và công bố lịch công tác tuần của cơ quan",
    Op.VIEW_RECORDS: "Xem danh mục hồ sơ và hồ sơ (hồ sơ: người lập, văn thư, lãnh đạo, lưu "
                     "trữ)",
    Op.EDIT_FILE_LIST: "Lập danh mục hồ sơ của năm (đề mục, hồ sơ, người lập)",
    Op.APPROVE_FILE_LIST: "Phê duyệt danh mục hồ sơ",
    Op.KEEP_DOSSIER: "Lập hồ sơ được giao: mở, đưa văn bản vào, kết thúc (người lập hồ sơ)",
    Op.HAND_OVER: "Nộp lưu hồ sơ đã kết thúc vào Lưu trữ cơ quan (người lập hồ sơ)",
    Op.RECEIVE_RECORDS: "Nhận hoặc trả lại hồ sơ nộp lưu (Lưu trữ cơ quan)",
    Op.VIEW_RETENTION: "Xem hồ sơ hết thời hạn bảo quản, đề nghị và biên bản tiêu hủy",
    Op.PROPOSE_DESTRUCTION: "Đề nghị tiêu hủy hồ sơ hết thời hạn bảo quản (Lưu trữ cơ quan)",
    Op.APPROVE_DESTRUCTION: "Quyết định tiêu hủy hoặc từ chối đề nghị tiêu hủy hồ sơ",
    Op.LEGAL_HOLD: "Tạm giữ hồ sơ theo yêu cầu pháp lý (không tiêu hủy) và bỏ tạm giữ",
    Op.SEARCH: "Tìm kiếm",
    Op.OWN_KEYS: "Quản lý chữ ký số của mình",
    Op.ADMIN_KEYS: "Quản trị chữ ký số của cơ quan",
    Op.ADMIN_DEPARTMENTS: "Quản trị phòng ban",
    Op.ADMIN_USERS: "Quản trị người dùng",
    Op.ADMIN_REVIEW_CHAIN: "Cấu hình quy trình duyệt",
    Op.ADMIN_AGENCIES: "Quản trị cơ quan, đơn vị (chỉ quản trị của cơ quan cấp cao nhất)",
    Op.ADMIN_STUCK_WORK: "Xem việc bị kẹt, chuyển bước duyệt, người ký hoặc việc được giao cho người khác",
    Op.ADMIN_AUDIT: "Xem và xuất nhật ký hoạt động của cơ quan",
    Op.ADMIN_TRUST_ANCHORS: "Nhập và gỡ chứng thư gốc, trung gian được tin cậy (chỉ quản trị "
                            "của cơ quan cấp cao nhất)",
    Op.ADMIN_NOTIFICATIONS: "Cấu hình nhắc hạn của cơ quan, xem và gửi lại thư điện tử lỗi",
}

assert set(RULES) == set(Op) == set(LABELS), "every operation has one rule and one label"


def allowed(roles: frozenset[Role] | set[Role], op: Op) -> bool:
    """Whether someone holding ``roles`` may attempt ``op``."""
    return not RULES[op].isdisjoint(roles)


def refusal(op: Op) -> str:
    """The message of a refused operation: what it is and who may do it."""
    names = ", ".join(r.label for r in ROLE_ORDER if r in RULES[op])
    return f"Bạn không có quyền thực hiện thao tác «{op.label}» (dành cho: {names})."


ROLE_ORDER = (Role.CLERK, Role.LEADER, Role.DEPARTMENT_HEAD, Role.SPECIALIST, Role.ADMIN,
              Role.ARCHIVIST)


def render_markdown() -> str:
    """The role table as docs/roles.md shows it."""
    lines = [
        "# Roles and operations",
        "",
        "Generated from `ioffice/agencies/permissions.py` (`RULES`); "
        "`tests/access/test_role_table.py` fails when the two differ. "
        "Regenerate with `python -m ioffice.agencies.permissions > docs/roles.md`.",
        "",
        "A role may attempt an operation when its column says **x**. Acting on a given document "
        "also needs the right to read it (the object rule in `ioffice/outgoing/access.py` and "
        "`ioffice/incoming/access.py`): someone who cannot read a document is answered "
        "\"not found\" (404) for every action on it, as for another agency's document. Some "
        "operations have a further rule of their own (only the designated signer signs, only the "
        "reviewer of the current step approves, only the assignee handles an assignment).",
        "",
        "| Operation | Code | " + " | ".join(r.label for r in ROLE_ORDER) + " |",
        "| --- | --- | " + " | ".join("---" for _ in ROLE_ORDER) + " |",
    ]
    for op in Op:
        marks = " | ".join("x" if r in RULES[op] else "" for r in ROLE_ORDER)
        lines.append(f"| {op.label} | `{op.value}` | {marks} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
