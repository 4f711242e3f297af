"""Frozen dataclasses: the vocabulary of the EPJ link.

Fields that hold a person identifier or note text are ``repr=False`` so that an accidental
``log.info("%r", obj)`` cannot leak them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from .codes import THEME_HENVENDELSE_OM_PASIENT, Code


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation in the address register, addressed by HER-id.

    ``unit`` is an optional sub-unit (a service, a department); messages are delivered to the
    most specific HER-id.
    """

    name: str
    her_id: int
    org_number: str | None = None
    unit: Party | None = None

    @property
    def address_her_id(self) -> int:
        return self.unit.address_her_id if self.unit else self.her_id


@dataclass(frozen=True, slots=True)
class Nurse:
    """The nurse responsible for the note (helsesykepleier)."""

    given_name: str
    family_name: str
    hpr: str | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    ident: str = field(repr=False)
    given_name: str | None = field(default=None, repr=False)
    family_name: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """MsgHead ConversationRef: the previous message and the first message of the thread."""

    parent: str
    conversation: str


@dataclass(frozen=True, slots=True)
class JournalNote:
    """Everything needed to build one Helsefaglig dialog message."""

    msg_id: str
    sender: Party
    receiver: Party
    patient: Patient
    nurse: Nurse
    subject: str = field(repr=False)
    text: str = field(repr=False)
    generated_at: datetime
    note_date: date
    theme: Code = THEME_HENVENDELSE_OM_PASIENT
    conversation_ref: ConversationRef | None = None


@dataclass(frozen=True, slots=True)
class NoteInfo:
    theme: Code
    subject: str | None = field(repr=False)
    text: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class MsgHeadInfo:
    """What we read from a MsgHead: routing and threading metadata plus the notes."""

    msg_type: str
    msg_id: str
    gen_date: str
    conversation_ref: ConversationRef | None
    sender_her_ids: tuple[int, ...]
    receiver_her_ids: tuple[int, ...]
    patient_id_type: str | None
    patient_ident: str | None = field(repr=False)
    notes: tuple[NoteInfo, ...] = ()

    @property
    def receiver_her_id(self) -> int | None:
        """The most specific receiver HER-id (the innermost organisation)."""
        return self.receiver_her_ids[-1] if self.receiver_her_ids else None

    @property
    def sender_her_id(self) -> int | None:
        return self.sender_her_ids[-1] if self.sender_her_ids else None


class AppRecStatus(enum.Enum):
    """8258 Status for mottak av melding."""

    OK = "1"
    AVVIST = "2"
    OK_FEIL_I_DELMELDING = "3"


@dataclass(frozen=True, slots=True)
class AppRecError:
    """AppRec/Error: V (code), DN (its meaning), S (code system), OT (free text)."""

    code: str
    description: str = ""
    system: str = ""
    detail: str = ""

    def text(self) -> str:
        parts = [self.code, self.description, self.detail]
        return " ".join(p for p in parts if p).strip()


@dataclass(frozen=True, slots=True)
class AppRec:
    id: str
    gen_date: str
    status: AppRecStatus
    errors: tuple[AppRecError, ...]
    original_msg_id: str
    original_msg_type: str
    original_issue_date: str
    sender_her_ids: tuple[int, ...] = ()
    receiver_her_ids: tuple[int, ...] = ()

    def text(self) -> str:
        """One line for a nurse's dashboard: the error codes and their meanings."""
        return "; ".join(e.text() for e in self.errors)


@dataclass(frozen=True, slots=True)
class AppRecParty:
    """A party as AppRec's HCP/Inst(/Dept) shape wants it."""

    name: str
    her_id: int
    dept_name: str | None = None
    dept_her_id: int | None = None

    @classmethod
    def from_party(cls, party: Party) -> AppRecParty:
        if party.unit is None:
            return cls(party.name, party.her_id)
        return cls(party.name, party.her_id, party.unit.name, party.unit.her_id)
