"""A youth's wish for an appointment (``DIALOG_INNBYGGER_TIMEONSKEUNGDOM``, ``ØnskeReserver``,
own behalf only), free of I/O; stored beside the appointments (wish_store.py).

    sent ──EPJ: SvarØnske with a time──▶ booked   (the appointment itself comes as an Avtale)
      └───EPJ: SvarØnske cancelled─────▶ declined (the Notat says why)
      └───EPJ: AppRec Avvist───────────▶ declined
      └───the youth withdraws it───────▶ withdrawn (``ØnskeAvbestill`` goes to the EPJ; its
                                         answer to the first request changes nothing then)

The wish goes out as a VEVENT (``METHOD:REQUEST``) from 08:00 to 16:00 (Europe/Oslo) on the
earliest day the youth can, the youth's words in the Notat.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any

from .ical import OSLO, CalendarEvent, EventStatus

MAX_TEXT = 500
WISH_TTL_DAYS = 60


class WishState(enum.StrEnum):
    SENT = "sent"
    BOOKED = "booked"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Wish:
    wid: str
    service: str  # our service id (its EPJ is ``epj_her``)
    epj_her: int
    earliest: date
    created: datetime
    state: WishState = WishState.SENT
    msg_id: str = ""
    text: str = field(repr=False, default="")
    answer: str = field(repr=False, default="")  # the EPJ's words
    booked_start: datetime | None = None
    wish_msg_id: str = ""  # after a withdrawal: the wish's own MsgId (msg_id is the withdrawal's)

    def to_json(self) -> str:
        body: dict[str, Any] = asdict(self)
        body["earliest"] = self.earliest.isoformat()
        body["created"] = self.created.isoformat()
        body["booked_start"] = self.booked_start.isoformat() if self.booked_start else None
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Wish:
        body = json.loads(raw)
        body["earliest"] = date.fromisoformat(body["earliest"])
        body["created"] = datetime.fromisoformat(body["created"])
        body["state"] = WishState(body["state"])
        if body.get("booked_start"):
            body["booked_start"] = datetime.fromisoformat(body["booked_start"])
        return cls(**body)

    def event(self, *, withdrawn: bool = False) -> CalendarEvent:
        """The wish as a VEVENT; ``withdrawn``: the same with ``STATUS:CANCELLED``
        (``ØnskeAvbestill``)."""
        start = datetime.combine(self.earliest, time(8, 0), OSLO)
        end = datetime.combine(self.earliest, time(16, 0), OSLO)
        return CalendarEvent(uid=f"{self.wid}@helseprat", sequence=0, start=start.astimezone(UTC),
                             end=end.astimezone(UTC),
                             status=EventStatus.CANCELLED if withdrawn else EventStatus.BOOKED,
                             type_code="TIMEONSKE", summary="Timeønske", location="", who="")


def answered(wish: Wish, msg_id: str, event: CalendarEvent, note: str) -> Wish | None:
    """The EPJ's SvarØnske for our request ``msg_id``; None if it is not the open one."""
    if wish.state is not WishState.SENT or wish.msg_id != msg_id:
        return None
    if event.status is EventStatus.CANCELLED:
        return replace(wish, state=WishState.DECLINED, answer=note)
    return replace(wish, state=WishState.BOOKED, answer=note, booked_start=event.start)


def refused(wish: Wish, msg_id: str, text: str) -> Wish | None:
    if wish.state is not WishState.SENT or wish.msg_id != msg_id:
        return None
    return replace(wish, state=WishState.DECLINED, answer=text)


def withdrawn(wish: Wish, msg_id: str) -> Wish | None:
    """The youth withdraws a wish the EPJ has not answered; ``msg_id`` is the withdrawal's
    MsgId. None when it is answered already (then it is an appointment to cancel)."""
    if wish.state is not WishState.SENT:
        return None
    return replace(wish, state=WishState.WITHDRAWN, msg_id=msg_id, wish_msg_id=wish.msg_id)
