"""The stand-in's XML: the request it reads and the answer it writes.

The shape is the stand-in's own (SYSVAK's web service contract is given to connected
systems, not published): a request naming one person, an answer naming the person again
and listing their vaccinations. identity_bridge/records/xsd/sysvak-standin.xsd describes
both; the client validates every answer against it.
"""

from __future__ import annotations

from lxml import etree

from .programme import Given

NS = "urn:helseprat:sysvak-standin:v1"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          load_dtd=False)


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def read_request(body: bytes) -> str | None:
    """The requested fødselsnummer, or None when the request is not one."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if root.tag != _q("HentVaksinasjoner"):
        return None
    pid = root.findtext(_q("Fodselsnummer"))
    return pid if pid and pid.isdigit() and len(pid) == 11 else None


def answer(pid: str, given: list[Given]) -> bytes:
    root = etree.Element(_q("Vaksinasjoner"), nsmap={None: NS})  # type: ignore[dict-item]
    etree.SubElement(etree.SubElement(root, _q("Pasient")), _q("Fodselsnummer")).text = pid
    for g in given:
        v = etree.SubElement(root, _q("Vaksinasjon"))
        etree.SubElement(v, _q("Dato")).text = g.day.isoformat()
        etree.SubElement(v, _q("ATC")).text = g.atc
        etree.SubElement(v, _q("Preparat")).text = g.name
        etree.SubElement(v, _q("Dose")).text = str(g.dose)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def not_found(pid: str) -> bytes:
    """A person the registry has no vaccinations for: an answer with none."""
    return answer(pid, [])
