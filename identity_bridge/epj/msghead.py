"""Build and read MsgHead 1.2 carrying a Dialogmelding 1.1 "Helsefaglig dialog" note.

Shape follows the Helsedirektoratet example "helsefaglig dialog" (see
shared/standards/kith/examples): MsgInfo (type, MIG version, GenDate, MsgId, optional
ConversationRef, Sender, Receiver, Patient) and one Document whose RefDoc/Content holds the
Dialogmelding with one Notat.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from . import codes
from .codes import Code
from .errors import MessageInvalid
from .model import ConversationRef, JournalNote, MsgHeadInfo, NoteInfo, Nurse, Party, Patient
from .schemas import (
    MSGHEAD_ROOT,
    NS_DIALOG,
    NS_FK1,
    NS_MSGHEAD,
    load,
    serialize,
    validate_msghead,
)

_MH = f"{{{NS_MSGHEAD}}}"
_DIA = f"{{{NS_DIALOG}}}"
_FK1 = f"{{{NS_FK1}}}"


# XML 1.0 cannot carry most C0 controls or lone surrogates; a pasted note may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items() if v})
    if text is not None:
        el.text = xml_text(text)
    return el


def _code(parent: etree._Element, tag: str, code: Code) -> etree._Element:
    return _sub(parent, tag, V=code.v, DN=code.dn, S=code.s)


def _ident(parent: etree._Element, ns: str, value: str, type_id: Code) -> None:
    ident = _sub(parent, f"{_MH}Ident" if ns == _MH else f"{_DIA}Ident")
    _sub(ident, f"{ns}Id", value)
    _code(ident, f"{ns}TypeId", type_id)


def _organisation(parent: etree._Element, party: Party) -> None:
    org = _sub(parent, f"{_MH}Organisation")
    _sub(org, f"{_MH}OrganisationName", party.name)
    if party.org_number:
        _ident(org, _MH, party.org_number, codes.ORG_ENH)
    _ident(org, _MH, str(party.her_id), codes.ORG_HER)
    if party.unit is not None:
        _organisation(org, party.unit)


def patient_id_type(ident: str) -> Code:
    """FNR or D-number: a D-number adds 4 to the first digit of the birth date."""
    return codes.PERSON_DNR if ident[:1] in {"4", "5", "6", "7"} else codes.PERSON_FNR


def _nurse(parent: etree._Element, nurse: Nurse, role: Code) -> None:
    roles = _sub(parent, f"{_DIA}RollerRelatertNotat")
    _code(roles, f"{_DIA}RoleToPatient", role)
    hcp = _sub(roles, f"{_DIA}HealthcareProfessional")
    _sub(hcp, f"{_DIA}TypeHealthcareProfessional", V=codes.HCP_SYKEPLEIER.v,
         DN=codes.HCP_SYKEPLEIER.dn)
    _sub(hcp, f"{_DIA}FamilyName", nurse.family_name)
    _sub(hcp, f"{_DIA}GivenName", nurse.given_name)
    if nurse.hpr:
        _ident(hcp, _FK1, nurse.hpr, codes.PERSON_HPR)


def start_msghead(*, msg_type: Code, msg_id: str, generated_at: datetime, sender: Party,
                  receiver: Party, patient: Patient,
                  conversation_ref: ConversationRef | None = None) -> etree._Element:
    """A MsgHead with its MsgInfo filled in and no Document yet (add them with
    ``add_document``)."""
    nsmap = {None: NS_MSGHEAD, "fk1": NS_FK1}
    root = etree.Element(MSGHEAD_ROOT, nsmap=nsmap)  # type: ignore[arg-type]
    info = _sub(root, f"{_MH}MsgInfo")
    _sub(info, f"{_MH}Type", V=msg_type.v, DN=msg_type.dn)
    _sub(info, f"{_MH}MIGversion", codes.MIG_VERSION_MSGHEAD)
    _sub(info, f"{_MH}GenDate", generated_at.isoformat(timespec="seconds"))
    _sub(info, f"{_MH}MsgId", msg_id)
    if conversation_ref is not None:
        ref = _sub(info, f"{_MH}ConversationRef")
        _sub(ref, f"{_MH}RefToParent", conversation_ref.parent)
        _sub(ref, f"{_MH}RefToConversation", conversation_ref.conversation)
    _organisation(_sub(info, f"{_MH}Sender"), sender)
    _organisation(_sub(info, f"{_MH}Receiver"), receiver)
    pat = _sub(info, f"{_MH}Patient")
    if patient.family_name:
        _sub(pat, f"{_MH}FamilyName", patient.family_name)
    if patient.given_name:
        _sub(pat, f"{_MH}GivenName", patient.given_name)
    _ident(pat, _MH, patient.ident, patient_id_type(patient.ident))
    return root


def add_document(root: etree._Element, *, issue_date: str, ref_type: Code = codes.REFDOC_XML,
                 mime_type: str | None = None) -> etree._Element:
    """Append a Document/RefDoc; returns its (empty) Content element."""
    refdoc = _sub(_sub(root, f"{_MH}Document"), f"{_MH}RefDoc")
    _sub(refdoc, f"{_MH}IssueDate", V=issue_date)
    _sub(refdoc, f"{_MH}MsgType", V=ref_type.v, DN=ref_type.dn)
    if mime_type:
        _sub(refdoc, f"{_MH}MimeType", mime_type)
    return _sub(refdoc, f"{_MH}Content")


def dialog_note(content: etree._Element, *, theme: Code, subject: str | None,
                text: str | None, note_date: str | None = None) -> etree._Element:
    """A Dialogmelding with one Notat inside ``content``; returns the Notat."""
    dialog = etree.SubElement(content, f"{_DIA}Dialogmelding", nsmap={None: NS_DIALOG})  # type: ignore[dict-item]
    notat = _sub(dialog, f"{_DIA}Notat")
    _code(notat, f"{_DIA}TemaKodet", theme)
    if subject is not None:
        _sub(notat, f"{_DIA}Tema", subject)
    if text is not None:
        _sub(notat, f"{_DIA}TekstNotatInnhold", text)
    if note_date is not None:
        _sub(notat, f"{_DIA}DatoNotat", note_date)
    return notat


def build_msghead(note: JournalNote) -> etree._Element:
    """The message as an element tree, validated (raises SchemaInvalid: fail closed)."""
    root = start_msghead(msg_type=codes.DIALOG_HELSEFAGLIG, msg_id=note.msg_id,
                         generated_at=note.generated_at, sender=note.sender,
                         receiver=note.receiver, patient=note.patient,
                         conversation_ref=note.conversation_ref)
    gen = note.generated_at.isoformat(timespec="seconds")
    content = add_document(root, issue_date=gen)
    notat = dialog_note(content, theme=note.theme, subject=note.subject, text=note.text,
                        note_date=note.note_date.isoformat())
    _nurse(notat, note.nurse, codes.ROLE_HELSEFAGLIG_KONTAKT)
    validate_msghead(root)
    return root


def render_msghead(note: JournalNote) -> bytes:
    """The business document: UTF-8 bytes of a schema-valid MsgHead."""
    return serialize(build_msghead(note))


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _her_ids(org: etree._Element | None) -> tuple[int, ...]:
    """HER-ids from the outermost to the innermost organisation."""
    out: list[int] = []
    while org is not None:
        for ident in org.findall(f"{_MH}Ident"):
            type_el = ident.find(f"{_MH}TypeId")
            value = _text(ident, f"{_MH}Id")
            if type_el is not None and (type_el.get("V") or "").strip() == "HER" and value:
                if value.isdigit():
                    out.append(int(value))
        org = org.find(f"{_MH}Organisation")
    return tuple(out)


def _cv(el: etree._Element | None) -> Code:
    if el is None:
        return Code("", "")
    return Code((el.get("V") or "").strip(), el.get("DN") or "", el.get("S") or "")


def read_msghead(root: etree._Element) -> MsgHeadInfo:
    """Metadata and notes from an already loaded MsgHead (validation is the caller's)."""
    info = root.find(f"{_MH}MsgInfo")
    if info is None:
        raise MessageInvalid("MsgInfo missing")
    type_el = info.find(f"{_MH}Type")
    msg_id = _text(info, f"{_MH}MsgId")
    if type_el is None or not msg_id:
        raise MessageInvalid("MsgInfo/Type or MsgId missing")
    conv = None
    ref = info.find(f"{_MH}ConversationRef")
    if ref is not None:
        conv = ConversationRef(
            _text(ref, f"{_MH}RefToParent") or "", _text(ref, f"{_MH}RefToConversation") or ""
        )
    pid_type = pid = None
    patient = info.find(f"{_MH}Patient")
    if patient is not None:
        ident = patient.find(f"{_MH}Ident")
        if ident is not None:
            pid = _text(ident, f"{_MH}Id")
            pid_type = _cv(ident.find(f"{_MH}TypeId")).v or None
    notes = tuple(
        NoteInfo(
            theme=_cv(notat.find(f"{_DIA}TemaKodet")),
            subject=_text(notat, f"{_DIA}Tema"),
            text=_notat_text(notat),
        )
        for notat in root.iter(f"{_DIA}Notat")
    )
    sender = info.find(f"{_MH}Sender/{_MH}Organisation")
    receiver = info.find(f"{_MH}Receiver/{_MH}Organisation")
    return MsgHeadInfo(
        msg_type=(type_el.get("V") or "").strip(),
        msg_id=msg_id,
        gen_date=_text(info, f"{_MH}GenDate") or "",
        conversation_ref=conv,
        sender_her_ids=_her_ids(sender),
        receiver_her_ids=_her_ids(receiver),
        patient_id_type=pid_type,
        patient_ident=pid,
        notes=notes,
    )


def _notat_text(notat: etree._Element) -> str | None:
    el = notat.find(f"{_DIA}TekstNotatInnhold")
    if el is None:
        return None
    # anyType: may hold XHTML; the plain text is what a reader sees.
    return "".join(str(t) for t in el.itertext()).strip()


def parse_msghead(data: bytes | str) -> MsgHeadInfo:
    """Load, validate against the schemas, and read. Raises an EpjError subclass."""
    root = load(data, MSGHEAD_ROOT)
    validate_msghead(root)
    return read_msghead(root)
