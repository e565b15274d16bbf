"""Receive a package written as another producer writes it (an empty ``<Signature/>``, a PDF
without a signature) for Cà Mau, through the real receipt, in a process of its own with a
server's environment (``python -m tests.e2e.producer_package --subject ...``); prints the
incoming document's id as JSON. Used by ``tests/browser/test_received_flags.py``."""

from __future__ import annotations

import argparse
import json
import uuid

from sqlalchemy import select

from ioffice.incoming.models import IncomingDocument
from signing.demo import make_text_pdf
from tests.axis_connector.producers import Producer

BNV, CA_MAU = "000.00.00.G09", "000.00.00.H12"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subject", required=True)
    args = parser.parse_args()

    from ioffice.db_session import database
    from ioffice.exchange import exchange
    from ioffice.exchange.receipt import receive_package
    from wsgi import app

    number = str(100 + uuid.uuid4().int % 800)
    package = Producer(sender=BNV, sender_name="Bộ Nội vụ", recipient=CA_MAU,
                       document_id=f"{BNV},2026/11/20,{number}/BNV-VP", number=number,
                       notation="BNV-VP", date="20/11/2026", subject=args.subject,
                       signature="<Signature/>",
                       files=(("cong-van.pdf", "application/pdf", make_text_pdf([args.subject])),))
    with app.app_context():
        rt = exchange(app)
        outcome = receive_package(rt, rt.hubs[0].name, f"producer-{uuid.uuid4().hex[:12]}", [CA_MAU],
                                  "edoc", package.document(), sender=BNV,
                                  document_id=package.document_id)
        assert outcome.delivered == [CA_MAU], outcome.failed
        with database(app).session() as s:
            doc_id = s.scalar(select(IncomingDocument.id).where(
                IncomingDocument.document_identifier == package.document_id))
    print(json.dumps({"incoming_id": doc_id}))


if __name__ == "__main__":
    main()
