from __future__ import annotations

from sqlalchemy.orm import Session

from ioffice.audit import AuditContext
from ioffice.exchange import dispatch
from ioffice.exchange.models import ExchangeOutbox
from tests.conftest import CSRF_RE

from .conftest import CA_MAU, Federation, outgoing


def test_clerk_sees_packages_and_retries_a_dead_letter(db: Session, federation: Federation, login_as) -> None:
    [row] = dispatch(db, AuditContext(None, None, "test"),
                     outgoing(db, federation, sender=CA_MAU, recipients=("000.00.21.H12",)))
    row.state, row.last_error = "dead", "Trục liên thông từ chối: thử nghiệm [unknown_recipient]"
    db.commit()
    client = login_as("vanthu.camau")
    page = client.get("/lien-thong/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Gói tin gửi đi" in html and "thử nghiệm" in html
    assert "<script" not in html.split("</nav>")[-1] and "style=" not in html
    token = CSRF_RE.search(html).group(1)
    assert client.post(f"/lien-thong/goi-di/{row.id}/gui-lai").status_code == 400  # no CSRF token
    resp = client.post(f"/lien-thong/goi-di/{row.id}/gui-lai", data={"csrf_token": token})
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(ExchangeOutbox, row.id).state == "pending"
