"""What inspect_pdf reads off a file: refusals and the facts shown to clerks (no database)."""

from __future__ import annotations

import pytest

from ioffice.documents.pdf import InvalidPdf, inspect_pdf
from signing.demo import make_text_pdf
from tests.outgoing.hostile import with_attachment, with_javascript


@pytest.fixture(scope="module")
def plain() -> bytes:
    return make_text_pdf(["Công văn số 12/UBND-VP về việc báo cáo"])


def test_a_plain_pdf_has_nothing_flagged(plain: bytes) -> None:
    facts = inspect_pdf(plain)
    assert (facts.page_count, facts.has_javascript, facts.has_attachments) == (1, False, False)


def test_javascript_and_attachments_are_reported(plain: bytes) -> None:
    assert inspect_pdf(with_javascript(plain)).has_javascript
    assert not inspect_pdf(with_javascript(plain)).has_attachments
    both = inspect_pdf(with_javascript(with_attachment(plain)))
    assert both.has_javascript and both.has_attachments


@pytest.mark.parametrize("name", [b"/JS", b"/JavaScript"])
def test_either_javascript_name_is_enough(plain: bytes, name: bytes) -> None:
    # a name placed after the end of the file: pdfium still reads it, the check sees it
    assert inspect_pdf(plain + b"\n% " + name + b" (x)\n").has_javascript


def test_names_that_only_begin_alike_are_not_flagged(plain: bytes) -> None:
    facts = inspect_pdf(plain + b"\n% /JSON /JavaScriptX /EncryptMetadata /EmbeddedFilesX\n")
    assert not facts.has_javascript and not facts.has_attachments


def test_an_encrypted_pdf_is_refused_in_vietnamese(plain: bytes) -> None:
    with pytest.raises(InvalidPdf, match="mã hóa hoặc đặt mật khẩu"):
        inspect_pdf(plain + b"\ntrailer << /Encrypt 5 0 R >>\n")
