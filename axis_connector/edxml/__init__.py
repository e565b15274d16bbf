"""edXML (QCVN 102:2016/BTTTT) packages: typed objects, build, safe parse, XML signatures.

See ``docs/edxml.md`` for what is supported and the liberal/strict choices.
"""

from .build import build_document_package, build_package, build_status_package
from .errors import EdxmlError, SignatureError
from .model import (
    LEGACY_NAMESPACES,
    MAX_ORGAN_ID_LENGTH,
    NAMESPACE,
    STATUS_DESCRIPTIONS,
    VIETNAM_TZ,
    Attachment,
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentPackage,
    DocumentType,
    Organization,
    OtherInfo,
    Package,
    Priority,
    PromulgationInfo,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPackage,
    TraceHeader,
)
from .parse import parse_document_package, parse_package, parse_status_package
from .received import ReceivedPackage, open_package, read_package
from .safe_xml import ParseLimits
from .schema import edxml_schema, validate_schema
from .signature import (
    TrustCallback,
    VerificationResult,
    add_trace_header,
    organ_id_from_certificate,
    sign_package,
    verify_package,
)

__all__ = [
    "LEGACY_NAMESPACES",
    "MAX_ORGAN_ID_LENGTH",
    "NAMESPACE",
    "STATUS_DESCRIPTIONS",
    "VIETNAM_TZ",
    "Attachment",
    "Business",
    "BusinessDocType",
    "BusinessDocumentInfo",
    "Code",
    "DocumentPackage",
    "DocumentType",
    "EdxmlError",
    "Organization",
    "OtherInfo",
    "Package",
    "ParseLimits",
    "Priority",
    "PromulgationInfo",
    "ReceivedPackage",
    "ReplacementInfo",
    "ResponseFor",
    "SignatureError",
    "SignerInfo",
    "StaffInfo",
    "StatusCode",
    "StatusPackage",
    "TraceHeader",
    "TrustCallback",
    "VerificationResult",
    "add_trace_header",
    "build_document_package",
    "build_package",
    "build_status_package",
    "edxml_schema",
    "open_package",
    "organ_id_from_certificate",
    "parse_document_package",
    "parse_package",
    "parse_status_package",
    "read_package",
    "sign_package",
    "validate_schema",
    "verify_package",
]
