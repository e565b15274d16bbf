"""Packages written as other producers write them (``shared/spec/vxp-wire.md``, "Packages as the
real axis carries them"): hand-written XML, not our builder, so that the tolerances of
``docs/edxml.md`` ("Received as other producers write it") are tested on what arrives.

The XML-DSig is made by hand too, as those producers make it: the ``Signature`` element in the
XML-DSig namespace as default namespace, inclusive C14N 2001, rsa-sha1, a sha1 digest, one
``Reference URI=""`` with the enveloped-signature transform (and exc-c14n after it in some),
the signer certificate in ``X509Data``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import textwrap
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"


def wrapped_base64(data: bytes, width: int = 76) -> str:
    """Base64 in lines of ``width`` (MIME style, CRLF), as several producers write it."""
    return "\r\n".join(textwrap.wrap(base64.b64encode(data).decode(), width))


@dataclass
class Producer:
    """The values of one package; :meth:`document` writes it in the producer's style."""

    sender: str
    sender_name: str
    recipient: str
    document_id: str
    number: str = "215"
    notation: str = "UBND-VP"
    date: str = "2026/11/20"
    subject: str = "V/v triển khai kết nối trục liên thông văn bản quốc gia"
    doc_type: int = 0
    reason: str = ""
    business_document_id: str = ""
    response_for: str = ""
    """``ResponseFor/DocumentId``; empty: no ResponseFor (as in updates and replacements)."""
    replacements: tuple[tuple[str, tuple[str, ...]], ...] = ()
    timestamp: str = "2026/11/20 08:15:02"
    files: tuple[tuple[str, str, bytes], ...] = ()
    """(name, content type, bytes)."""
    wrap: bool = True
    signature: str = ""
    """What stands where the signature goes, as written (``<Signature/>``, a bare one...)."""
    extra_trace: list[str] = field(default_factory=list)

    def document(self) -> bytes:
        response_for = "" if not self.response_for else (
            f"<ResponseFor><OrganId>{self.sender}</OrganId><Code>{self.number}/{self.notation}</Code>"
            f"<PromulgationDate>{self.date}</PromulgationDate>"
            f"<DocumentId>{self.response_for}</DocumentId></ResponseFor>")
        replacements = "" if not self.replacements else "<ReplacementInfoList>" + "".join(
            f"<ReplacementInfo><DocumentId>{doc}</DocumentId><OrganIdList>"
            + "".join(f"<OrganId>{o}</OrganId>" for o in organs)
            + "</OrganIdList></ReplacementInfo>" for doc, organs in self.replacements
        ) + "</ReplacementInfoList>"
        refs = "".join(
            f"<Reference><ContentId>cid:{i}</ContentId><AttachmentName>{name}</AttachmentName>"
            f"<ContentType>{kind}</ContentType></Reference>\n"
            for i, (name, kind, _) in enumerate(self.files, 1))
        attachments = "".join(
            f"<Attachment>\n<ContentId>cid:{i}</ContentId>\n<AttachmentName>{name}</AttachmentName>\n"
            f"<ContentType>{kind}</ContentType>\n<ContentTransferEncoded>"
            f"{wrapped_base64(data) if self.wrap else base64.b64encode(data).decode()}"
            f"</ContentTransferEncoded>\n</Attachment>\n"
            for i, (name, kind, data) in enumerate(self.files, 1))
        text = f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="{NS}" xmlns:edXML="{NS}">
<edXMLEnvelope>
<edXMLHeader>
<MessageHeader>
<From>
<OrganId>{self.sender}</OrganId>
<OrganInCharge></OrganInCharge>
<OrganName>{self.sender_name}</OrganName>
<OrganAdd>Hà Nội</OrganAdd>
<Email></Email>
<Telephone></Telephone>
<Fax></Fax>
<Website></Website>
</From>
<To>
<OrganId>{self.recipient}</OrganId>
<OrganName></OrganName>
</To>
<DocumentId>{self.document_id}</DocumentId>
<Code>
<CodeNumber>{self.number}</CodeNumber>
<CodeNotation>{self.notation}</CodeNotation>
</Code>
<PromulgationInfo>
<Place>Hà Nội</Place>
<PromulgationDate>{self.date}</PromulgationDate>
</PromulgationInfo>
<DocumentType>
<Type>1</Type>
<TypeDetail>2</TypeDetail>
<TypeName>Công văn</TypeName>
</DocumentType>
<Subject>{self.subject}</Subject>
<Content></Content>
<SignerInfo>
<Competence>KT. CHỦ TỊCH</Competence>
<Position>Phó Chủ tịch</Position>
<FullName>Lê Văn Bình</FullName>
</SignerInfo>
<DueDate></DueDate>
<ToPlaces><Place>Như trên</Place></ToPlaces>
<OtherInfo>
<Priority>0</Priority>
<SphereOfPromulgation></SphereOfPromulgation>
<TyperNotation></TyperNotation>
<PromulgationAmount>1</PromulgationAmount>
<PageAmount>1</PageAmount>
</OtherInfo>
{response_for}
<SteeringType>0</SteeringType>
</MessageHeader>
<TraceHeaderList>
<TraceHeader>
<OrganId>{self.sender}</OrganId>
<Timestamp>{self.timestamp}</Timestamp>
</TraceHeader>
<Bussiness>
<BussinessDocType>{self.doc_type}</BussinessDocType>
<BussinessDocReason>{self.reason}</BussinessDocReason>
<DocumentId>{self.business_document_id}</DocumentId>
<Paper>0</Paper>
{replacements}
</Bussiness>
</TraceHeaderList>
{self.signature}
</edXMLHeader>
<edXMLBody>
<edXMLManifest version="1.0">
{refs}</edXMLManifest>
</edXMLBody>
</edXMLEnvelope>
<AttachmentEncoded>
{attachments}</AttachmentEncoded>
</edXML>
"""
        return text.encode()


def status_package(sender: str, recipient: str, document_id: str, code: str = "03", *,
                   number: str = "215/UBND-VP", date: str = "2026/11/20",
                   timestamp: str = "2026/11/21 09:00:00", description: str = "Đã phân công xử lý",
                   signature: str = "") -> bytes:
    """A status package as the spec describes it: ``MessageHeader`` with From, ResponseFor,
    StaffInfo, StatusCode, Description, Timestamp; no body (and here no ``To``)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="{NS}" xmlns:edXML="{NS}">
<edXMLEnvelope>
<edXMLHeader>
<MessageHeader>
<From>
<OrganId>{sender}</OrganId>
<OrganName>Cơ quan nhận</OrganName>
</From>
<ResponseFor>
<OrganId>{recipient}</OrganId>
<Code>{number}</Code>
<PromulgationDate>{date}</PromulgationDate>
<DocumentId>{document_id}</DocumentId>
</ResponseFor>
<StaffInfo>
<Department>Văn phòng</Department>
<Staff>Phạm Thị Thu</Staff>
<Mobile></Mobile>
<Email></Email>
</StaffInfo>
<StatusCode>{code}</StatusCode>
<Description>{description}</Description>
<Timestamp>{timestamp}</Timestamp>
</MessageHeader>
{signature}
</edXMLHeader>
</edXMLEnvelope>
</edXML>
""".encode()


def axis_trace_header(xml: bytes, timestamp: str = "2026/11/20 08:15:09") -> bytes:
    """What the national axis does on the way: a ``TraceHeader`` of its own, a Timestamp and
    no OrganId, after the last one (a list created when there is none)."""
    root = etree.fromstring(xml)
    header = root.find(f"{{{NS}}}edXMLEnvelope/{{{NS}}}edXMLHeader")
    trace_list = header.find(f"{{{NS}}}TraceHeaderList")
    if trace_list is None:
        trace_list = etree.Element(f"{{{NS}}}TraceHeaderList")
        header.insert(1, trace_list)
    existing = trace_list.findall(f"{{{NS}}}TraceHeader")
    trace = etree.Element(f"{{{NS}}}TraceHeader")
    etree.SubElement(trace, f"{{{NS}}}Timestamp").text = timestamp
    trace_list.insert(trace_list.index(existing[-1]) + 1 if existing else 0, trace)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def inclusive_c14n(element: etree._Element) -> bytes:
    """Inclusive C14N 1.0 of an element inside a document, as the spec (and Java's Santuario)
    computes it: every namespace in scope declared on it. Not lxml's ``tostring(element,
    method="c14n")``, which under a redeclared default namespace writes a wrong ``xmlns=""``
    on its grandchildren (libxml2 2.14)."""
    standalone = etree.Element(element.tag, dict(element.attrib), nsmap=element.nsmap)
    standalone.text = element.text
    for child in element:
        standalone.append(copy.deepcopy(child))
    return etree.tostring(standalone, method="c14n")


def xmldsig_sha1(xml: bytes, key: rsa.RSAPrivateKey, certificate: x509.Certificate, *,
                 exclusive_transform: bool = False, signature_value: str | None = None) -> bytes:
    """Sign ``xml`` as those producers do (see the module docstring); ``signature_value``
    replaces the computed value as written (the samples' placeholders)."""
    root = etree.fromstring(xml)
    header = root.find(f"{{{NS}}}edXMLEnvelope/{{{NS}}}edXMLHeader")
    # the enveloped transform removes the Signature, which is not there yet
    digested = etree.tostring(root, method="c14n", exclusive=exclusive_transform)
    digest = base64.b64encode(hashlib.sha1(digested).digest()).decode()
    signature = etree.SubElement(header, f"{{{DSIG}}}Signature", nsmap={None: DSIG})

    def add(parent: etree._Element, name: str, **attrs: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{DSIG}}}{name}", attrs)

    signed_info = add(signature, "SignedInfo")
    add(signed_info, "CanonicalizationMethod", Algorithm=C14N)
    add(signed_info, "SignatureMethod", Algorithm=RSA_SHA1)
    reference = add(signed_info, "Reference", URI="")
    transforms = add(reference, "Transforms")
    add(transforms, "Transform", Algorithm=ENVELOPED)
    if exclusive_transform:
        add(transforms, "Transform", Algorithm=EXC_C14N)
    add(reference, "DigestMethod", Algorithm=SHA1)
    add(reference, "DigestValue").text = digest
    value = key.sign(inclusive_c14n(signed_info), padding.PKCS1v15(), hashes.SHA1())
    add(signature, "SignatureValue").text = (
        signature_value if signature_value is not None else base64.b64encode(value).decode())
    x509_data = add(add(signature, "KeyInfo"), "X509Data")
    add(x509_data, "X509Certificate").text = base64.b64encode(
        certificate.public_bytes(serialization.Encoding.DER)).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
