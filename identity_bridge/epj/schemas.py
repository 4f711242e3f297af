"""Safe XML loading and validation against the vendored KITH schemas (``xsd/``).

The schemas are official published files copied byte-for-byte from
shared/standards/kith/xsd (a test checks this). They load offline: every import is a
relative file name in the same folder, and the parser refuses network access.

``MsgHead/Document/RefDoc/Content`` is a strict wildcard, so a MsgHead carrying a
Dialogmelding only validates against a schema that knows both namespaces: we build a small
wrapper schema in memory that imports MsgHead, Dialogmelding and Base64Container.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from .errors import SchemaInvalid, XmlMalformed, XmlWrongRoot

XSD_DIR = Path(__file__).resolve().parent / "xsd"

NS_MSGHEAD = "http://www.kith.no/xmlstds/msghead/2006-05-24"
NS_DIALOG = "http://www.kith.no/xmlstds/dialog/2013-01-23"
NS_APPREC = "http://www.kith.no/xmlstds/apprec/2004-11-21"
NS_FK1 = "http://www.kith.no/xmlstds/felleskomponent1"
NS_BASE64 = "http://www.kith.no/xmlstds/base64container"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"

MSGHEAD_ROOT = f"{{{NS_MSGHEAD}}}MsgHead"
APPREC_ROOT = f"{{{NS_APPREC}}}AppRec"

_WRAPPER = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="{NS_MSGHEAD}" schemaLocation="MsgHead-v1_2.xsd"/>
  <xs:import namespace="{NS_DIALOG}" schemaLocation="dialogmelding-v1.1.xsd"/>
  <xs:import namespace="{NS_BASE64}" schemaLocation="kith-base64.xsd"/>
</xs:schema>""".encode()

# Cap what we accept from the network: a journal note is a few kB; attachments are not used.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


def _parser() -> etree.XMLParser:
    # No entities, no DTD loading, no network: incoming documents are untrusted.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


@functools.cache
def msghead_schema() -> etree.XMLSchema:
    doc = etree.fromstring(_WRAPPER, _parser(), base_url=str(XSD_DIR) + "/")
    return etree.XMLSchema(doc)


@functools.cache
def apprec_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "AppRec-v1-2004-11-21.xsd"), _parser()))


def load(data: bytes | str, expected_root: str) -> etree._Element:
    """Parse untrusted bytes; raise a coded error for anything that is not the expected root."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise XmlMalformed("document too large")
    try:
        root = etree.fromstring(raw, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise XmlMalformed(f"not well-formed XML (line {line})") from None
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise XmlMalformed("a DOCTYPE is not allowed")
    if root.tag != expected_root:
        local = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        raise XmlWrongRoot(f"expected {etree.QName(expected_root).localname}, got {local}")
    return root


def _validate(schema: etree.XMLSchema, root: etree._Element, what: str) -> None:
    if schema.validate(root):
        return
    where = tuple(
        f"line {e.line}: {e.path} ({e.type_name})" for e in list(schema.error_log)[:10]  # type: ignore[call-overload]
    )
    raise SchemaInvalid(f"{what} does not validate: " + "; ".join(where), where=where)


def validate_msghead(root: etree._Element) -> None:
    _validate(msghead_schema(), root, "MsgHead")


def validate_apprec(root: etree._Element) -> None:
    _validate(apprec_schema(), root, "AppRec")


def serialize(root: etree._Element) -> bytes:
    """UTF-8 with the declaration on the first line, as the MSH API requires."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
