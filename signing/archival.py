"""Long-term validation: what a signed PDF's last timestamp is, and a new archival timestamp.

A PAdES B-LTA document ends with a document timestamp over everything before it (the
signatures, their timestamps, the DSS with the certificates and revocation data). That
timestamp proves the rest existed at its time, while its TSA certificate is valid; before
that certificate expires (or its algorithms weaken) a new document timestamp over the whole
file, with the validation data of the previous one added to the DSS, carries the proof on.
pyHanko does that step (``PdfTimeStamper.async_update_archival_timestamp_chain``: validate
the last timestamp, add its validation data, add a document timestamp); this module only finds
the last timestamp and calls it. docs/signing.md, "Long-term validation".
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import async_add_validation_info

from ._loop import run_sync
from .errors import SigningError
from .trust import TrustStore

__all__ = ["LastTimestamp", "add_archival_timestamp", "async_add_archival_timestamp",
           "last_timestamp"]


@dataclass(frozen=True)
class LastTimestamp:
    """The newest timestamp of a signed PDF: a document timestamp, or the newest signature's
    own timestamp when no document timestamp follows it."""

    kind: str
    """``document`` (a /DocTimeStamp) or ``signature`` (the unsigned attribute of a CMS)."""
    time: dt.datetime
    """genTime of the token."""
    tsa_certificate: asn1_x509.Certificate
    """The certificate of the TSA that signed the token."""
    level: str
    """The PAdES level of the file: ``B-T``, ``B-LT`` or ``B-LTA`` (see
    :attr:`signing.validate.ValidationReport.level`)."""

    @property
    def expires(self) -> dt.datetime:
        """When the TSA certificate expires: the proof must be renewed before."""
        return self.tsa_certificate["tbs_certificate"]["validity"]["not_after"].native


def _token_facts(signed_data: cms.SignedData) -> tuple[dt.datetime, asn1_x509.Certificate]:
    info = signed_data["encap_content_info"]["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("not a timestamp token")
    sid = signed_data["signer_infos"][0]["sid"]
    certs = [c.chosen for c in signed_data["certificates"]
             if isinstance(c.chosen, asn1_x509.Certificate)]
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen
        match = [c for c in certs if c.serial_number == wanted["serial_number"].native
                 and c.issuer == wanted["issuer"]]
    else:
        match = [c for c in certs if c.key_identifier == sid.chosen.native]
    if not match:
        raise ValueError("the TSA's certificate is not in the token")
    return info["gen_time"].native, match[0]


def _signature_timestamp(signer_info: cms.SignerInfo) -> cms.SignedData | None:
    """The signature timestamp token (CMS unsigned attribute) of a signature, if any."""
    attrs = signer_info["unsigned_attrs"]
    if not isinstance(attrs, cms.CMSAttributes):
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            return attr["values"][0]["content"]
    return None


def last_timestamp(pdf: bytes) -> LastTimestamp | None:
    """The newest timestamp in ``pdf`` (no validation: what the token says), or None when the
    file has no timestamp at all (PAdES B-B, unsigned, unreadable)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
        has_dss = "/DSS" in reader.root
    except Exception:
        return None
    for i in range(len(embedded) - 1, -1, -1):
        sig = embedded[i]
        try:
            if str(sig.sig_object_type) == "/DocTimeStamp":
                when, cert = _token_facts(sig.signed_data)
                return LastTimestamp("document", when, cert, "B-LTA")
            token = _signature_timestamp(sig.signer_info)
            if token is None:
                return None  # the newest signature has no timestamp: nothing to renew
            when, cert = _token_facts(token)
            return LastTimestamp("signature", when, cert, "B-LT" if has_dss else "B-T")
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None
    return None


async def async_add_archival_timestamp(pdf: bytes, timestamper: TimeStamper,
                                       trust: TrustStore) -> bytes:
    """``pdf`` plus the validation data of its last timestamp and a new document timestamp
    (an incremental update: the old bytes are a prefix of the new ones).

    :class:`SigningError` if the last timestamp does not validate against ``trust`` (a new
    one would then attest a broken chain) or the PDF cannot be updated; the timestamper's own
    errors (:class:`signing.tsa.TimestampUnavailable`) pass through."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as exc:
        raise SigningError(f"Không đọc được tệp PDF ({exc}).") from exc
    vc = trust.validation_context()
    try:
        if not reader.embedded_timestamp_signatures:
            # B-T or B-LT: first the signature's (and its timestamp's) validation data, so
            # that the document timestamp covers them (B-LTA from then on)
            newest = [s for s in reader.embedded_signatures
                      if str(s.sig_object_type) != "/DocTimeStamp"][-1]
            staged = await async_add_validation_info(newest, vc, output=io.BytesIO())
            reader = PdfFileReader(staged, strict=False)
        out = await PdfTimeStamper(timestamper).async_update_archival_timestamp_chain(
            reader, vc, in_place=False, output=io.BytesIO())
    except SigningError:
        raise
    except Exception as exc:  # pyHanko: the last timestamp does not validate, a bad PDF
        raise SigningError(f"Không thêm được dấu thời gian lưu trữ ({exc}).") from exc
    signed = out.getvalue()
    if not signed.startswith(pdf):
        raise SigningError("Dấu thời gian lưu trữ không được thêm bằng cập nhật tăng dần.")
    return signed


def add_archival_timestamp(pdf: bytes, timestamper: TimeStamper, trust: TrustStore) -> bytes:
    """Synchronous :func:`async_add_archival_timestamp`."""
    return run_sync(async_add_archival_timestamp(pdf, timestamper, trust), SigningError)
