"""The XSD for the packages this library emits, and validation against it."""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree

from .errors import EdxmlError
from .safe_xml import DEFAULT_LIMITS, ParseLimits, parse_xml

__all__ = ["edxml_schema", "validate_schema"]


@cache
def edxml_schema() -> etree.XMLSchema:
    """The compiled ``edxml.xsd`` (shipped with the package)."""
    text = resources.files(__package__).joinpath("edxml.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(text, etree.XMLParser(resolve_entities=False, no_network=True)))


def validate_schema(xml_bytes: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> None:
    """Check a package against ``edxml.xsd``; raise :class:`EdxmlError` with the first violation.

    This is the shape we emit; incoming packages from other systems are read
    by the (more liberal) parser instead.
    """
    schema = edxml_schema()
    if not schema.validate(parse_xml(xml_bytes, limits)):
        error = schema.error_log[0]
        raise EdxmlError("schema_invalid", error.path or "", f"dòng {error.line}: {error.message}")
