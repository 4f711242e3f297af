"""Build and read AppRec 1.0 (application receipts).

Status is code system 8258: 1 OK, 2 Avvist, 3 OK feil i delmelding. Errors are CVs whose V is
from 8221 (E21 "Mottaker finnes ikke", T02 "XML validerer ikke", X99 ...) or a
message-specific system; OT carries the receiver's free text.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from . import codes
from .errors import MessageInvalid
from .model import AppRec, AppRecError, AppRecParty, AppRecStatus
from .schemas import APPREC_ROOT, NS_APPREC, load, serialize, validate_apprec

_AR = f"{{{NS_APPREC}}}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{_AR}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        el.text = text
    return el


def _party(parent: etree._Element, tag: str, role: str, party: AppRecParty) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "Role", V=role)
    inst = _sub(_sub(holder, "HCP"), "Inst")
    _sub(inst, "Name", party.name)
    _sub(inst, "Id", str(party.her_id))
    _sub(inst, "TypeId", V=codes.ORG_HER.v, DN=codes.ORG_HER.dn)
    if party.dept_her_id is not None:
        dept = _sub(inst, "Dept")
        _sub(dept, "Name", party.dept_name or "")
        _sub(dept, "Id", str(party.dept_her_id))
        _sub(dept, "TypeId", V=codes.ORG_HER.v, DN=codes.ORG_HER.dn)


def build_apprec(
    *,
    apprec_id: str,
    generated_at: datetime,
    sender: AppRecParty,
    receiver: AppRecParty,
    status: AppRecStatus,
    errors: tuple[AppRecError, ...],
    original_msg_id: str,
    original_msg_type: codes.Code,
    original_issue_date: str,
) -> bytes:
    """A schema-valid AppRec (raises SchemaInvalid otherwise)."""
    root = etree.Element(APPREC_ROOT, nsmap={None: NS_APPREC})  # type: ignore[dict-item]
    _sub(root, "MsgType", V=codes.APPREC.v, DN=codes.APPREC.dn)
    _sub(root, "MIGversion", codes.MIG_VERSION_APPREC)
    _sub(root, "GenDate", generated_at.isoformat(timespec="seconds"))
    _sub(root, "Id", apprec_id)
    _party(root, "Sender", "RECEIVER", sender)  # the receipt's sender is the original receiver
    _party(root, "Receiver", "REQ", receiver)
    status_code = {
        AppRecStatus.OK: codes.APPREC_OK,
        AppRecStatus.AVVIST: codes.APPREC_AVVIST,
        AppRecStatus.OK_FEIL_I_DELMELDING: codes.APPREC_OK_FEIL_I_DELMELDING,
    }[status]
    _sub(root, "Status", V=status_code.v, DN=status_code.dn)
    for err in errors:
        _sub(root, "Error", V=err.code, S=err.system, DN=err.description, OT=err.detail)
    orig = _sub(root, "OriginalMsgId")
    _sub(orig, "MsgType", V=original_msg_type.v, DN=original_msg_type.dn)
    _sub(orig, "IssueDate", original_issue_date)
    _sub(orig, "Id", original_msg_id)
    validate_apprec(root)
    return serialize(root)


def _text(el: etree._Element, path: str) -> str:
    found = el.find(path)
    return (found.text or "").strip() if found is not None else ""


def _her_ids(holder: etree._Element | None) -> tuple[int, ...]:
    if holder is None:
        return ()
    out: list[int] = []
    for unit in holder.iter(f"{_AR}Inst", f"{_AR}Dept"):
        type_el = unit.find(f"{_AR}TypeId")
        value = _text(unit, f"{_AR}Id")
        # One published example writes V=" HER": the schema's token type collapses it.
        if type_el is not None and (type_el.get("V") or "").strip() == "HER" and value.isdigit():
            out.append(int(value))
    return tuple(out)


def read_apprec(root: etree._Element) -> AppRec:
    status_el = root.find(f"{_AR}Status")
    raw_status = (status_el.get("V") or "").strip() if status_el is not None else ""
    try:
        status = AppRecStatus(raw_status)
    except ValueError:
        raise MessageInvalid("unknown AppRec status", code="epj.apprec.unknown_status") from None
    original_id = _text(root, f"{_AR}OriginalMsgId/{_AR}Id")
    if not original_id:
        raise MessageInvalid("AppRec without OriginalMsgId/Id")
    orig_type = root.find(f"{_AR}OriginalMsgId/{_AR}MsgType")
    errors = tuple(
        AppRecError(
            code=(e.get("V") or "").strip(),
            description=e.get("DN") or "",
            system=e.get("S") or "",
            detail=e.get("OT") or "",
        )
        for e in root.findall(f"{_AR}Error")
    )
    if status is AppRecStatus.AVVIST and not errors:
        # A rejection must say why; without an error we cannot tell the nurse anything.
        raise MessageInvalid("AppRec Avvist without Error", code="epj.apprec.missing_error")
    return AppRec(
        id=_text(root, f"{_AR}Id"),
        gen_date=_text(root, f"{_AR}GenDate"),
        status=status,
        errors=errors,
        original_msg_id=original_id,
        original_msg_type=(orig_type.get("V") or "").strip() if orig_type is not None else "",
        original_issue_date=_text(root, f"{_AR}OriginalMsgId/{_AR}IssueDate"),
        sender_her_ids=_her_ids(root.find(f"{_AR}Sender")),
        receiver_her_ids=_her_ids(root.find(f"{_AR}Receiver")),
    )


def parse_apprec(data: bytes | str) -> AppRec:
    """Load, validate, read. Raises an EpjError subclass with a stable code."""
    root = load(data, APPREC_ROOT)
    validate_apprec(root)
    return read_apprec(root)


def original_msg_id_lenient(data: bytes | str) -> str | None:
    """Best-effort OriginalMsgId/Id of a receipt that failed validation, to attribute it.

    Only used to put a clear status on the message the broken receipt refers to; nothing
    else from an invalid receipt is trusted.
    """
    try:
        root = load(data, APPREC_ROOT)
    except Exception:
        return None
    value = _text(root, f"{_AR}OriginalMsgId/{_AR}Id")
    return value or None
