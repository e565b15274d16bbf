"""The guarantee kept on every signed revision: nothing changes a signed PDF except the next
signature (ioffice.outgoing.signatures.check_next_signature), against hostile revisions."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ioffice.outgoing.errors import OutgoingError
from ioffice.outgoing.signatures import check_next_signature
from signing import Pki, sign_pdf
from signing.demo import make_text_pdf


@pytest.fixture(scope="module")
def parties(pki: Pki):
    leader = pki.issue_personal("Huỳnh Quốc Việt", "Chủ tịch", "000.00.00.H12",
                                "Ủy ban nhân dân tỉnh Cà Mau", store_key=False)
    seal = pki.issue_seal("000.00.00.H12", "Ủy ban nhân dân tỉnh Cà Mau")
    other = pki.issue_seal("000.00.21.H12", "Ủy ban nhân dân huyện U Minh")
    return leader, seal, other, pki.trust_store()


@pytest.fixture(scope="module")
def draft() -> bytes:
    return make_text_pdf(["Báo cáo tình hình triển khai Chính phủ điện tử"])


def _sign(pdf: bytes, credential, trust) -> bytes:
    return sign_pdf(pdf, credential, trust=trust)


def _with_javascript(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root[generic.NameObject("/OpenAction")] = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/S"): generic.NameObject("/JavaScript"),
        generic.NameObject("/JS"): generic.TextStringObject("app.alert('x');")}))
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_personal_then_the_agency_signature_pass(parties, draft: bytes) -> None:
    leader, seal, _other, trust = parties
    first = _sign(draft, leader, trust)
    check_next_signature(draft, first, 1, str(leader.serial))
    second = _sign(first, seal, trust)
    check_next_signature(first, second, 2, str(seal.serial))


def test_bytes_appended_after_signing_are_refused(parties, draft: bytes) -> None:
    leader, _seal, _other, trust = parties
    signed = _sign(draft, leader, trust) + b"\n% appended after signing\n"
    with pytest.raises(OutgoingError, match="không khớp"):
        check_next_signature(draft, signed, 1, str(leader.serial))


def test_a_changed_earlier_revision_is_refused(parties, draft: bytes) -> None:
    leader, seal, _other, trust = parties
    first = _sign(draft, leader, trust)
    second = _sign(first, seal, trust)
    tampered = bytearray(second)
    tampered[200] ^= 0x01  # inside the leader's revision, which the new file must keep intact
    with pytest.raises(OutgoingError, match="giữ nguyên"):
        check_next_signature(first, bytes(tampered), 2, str(seal.serial))


def test_a_flipped_byte_inside_the_new_signature_range_is_refused(parties, draft: bytes) -> None:
    leader, _seal, _other, trust = parties
    signed = bytearray(_sign(draft, leader, trust))
    signed[len(draft) + 40] ^= 0x01  # inside the appended revision, covered by the signature
    with pytest.raises(OutgoingError):
        check_next_signature(draft, bytes(signed), 1, str(leader.serial))


def test_wrong_signature_count_and_another_certificate_are_refused(parties, draft: bytes) -> None:
    leader, _seal, other, trust = parties
    first = _sign(draft, leader, trust)
    with pytest.raises(OutgoingError, match="cần 2"):
        check_next_signature(draft, first, 2, str(leader.serial))
    by_other = _sign(first, other, trust)
    with pytest.raises(OutgoingError, match="không phải của chứng thư"):
        check_next_signature(first, by_other, 2, str(leader.serial))


def test_javascript_slipped_in_before_the_next_signature_is_refused(parties, draft: bytes) -> None:
    leader, seal, _other, trust = parties
    first = _sign(draft, leader, trust)
    with_js = _with_javascript(first)
    second = _sign(with_js, seal, trust)
    with pytest.raises(OutgoingError, match="không chỉ là chữ ký"):
        check_next_signature(with_js, second, 2, str(seal.serial))
