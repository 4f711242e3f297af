"""The lookalike's persistent state: one sqlite file in the data dir, so a restart keeps it."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    msg_id TEXT PRIMARY KEY,          -- MsgId from MsgHead: the idempotency key
    nhn_id TEXT UNIQUE NOT NULL,      -- the service's own message id
    sender_her INTEGER, receiver_her INTEGER,
    document BLOB NOT NULL,
    received_at REAL NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    apprec_status TEXT, apprec_errors TEXT
);
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    nhn_id TEXT UNIQUE NOT NULL,
    receiver_her INTEGER, sender_her INTEGER,
    business_document_id TEXT, gen_date TEXT,
    is_apprec INTEGER NOT NULL, document BLOB NOT NULL,
    read INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS used_jti (jti TEXT PRIMARY KEY, exp REAL NOT NULL);
"""


@dataclass(frozen=True)
class StoredMessage:
    msg_id: str
    nhn_id: str
    sender_her: int | None
    receiver_her: int | None
    document: bytes
    deliveries: int
    apprec_status: str | None
    apprec_errors: list[dict[str, str | None]]


@dataclass(frozen=True)
class InboxItem:
    nhn_id: str
    receiver_her: int | None
    sender_her: int | None
    business_document_id: str | None
    gen_date: str | None
    is_apprec: bool
    document: bytes
    read: bool


class Store:
    def __init__(self, path: Path) -> None:
        # One connection, used from the event loop thread only; statements are short.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- replay protection ---------------------------------------------------------------

    def use_jti(self, jti: str, exp: float) -> bool:
        """Record a jti; False if it was seen before (a replay)."""
        now = time.time()
        self._db.execute("DELETE FROM used_jti WHERE exp < ?", (now,))
        try:
            self._db.execute("INSERT INTO used_jti (jti, exp) VALUES (?, ?)", (jti, exp))
        except sqlite3.IntegrityError:
            return False
        return True

    # -- messages ------------------------------------------------------------------------

    def find(self, msg_id: str) -> StoredMessage | None:
        row = self._db.execute(
            "SELECT msg_id, nhn_id, sender_her, receiver_her, document, deliveries,"
            " apprec_status, apprec_errors FROM messages WHERE msg_id = ?", (msg_id,)
        ).fetchone()
        return _message(row) if row else None

    def by_nhn_id(self, nhn_id: str) -> StoredMessage | None:
        row = self._db.execute(
            "SELECT msg_id, nhn_id, sender_her, receiver_her, document, deliveries,"
            " apprec_status, apprec_errors FROM messages WHERE nhn_id = ?", (nhn_id,)
        ).fetchone()
        return _message(row) if row else None

    def count_delivery(self, msg_id: str) -> None:
        self._db.execute("UPDATE messages SET deliveries = deliveries + 1 WHERE msg_id = ?",
                         (msg_id,))

    def store_message(
        self,
        *,
        msg_id: str,
        nhn_id: str,
        sender_her: int | None,
        receiver_her: int | None,
        document: bytes,
        apprec_status: str,
        apprec_errors: list[dict[str, str | None]],
        receipt: InboxItem,
    ) -> None:
        """The message and its receipt in one transaction: never one without the other."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO messages (msg_id, nhn_id, sender_her, receiver_her, document,"
                " received_at, apprec_status, apprec_errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (msg_id, nhn_id, sender_her, receiver_her, document, time.time(),
                 apprec_status, json.dumps(apprec_errors)),
            )
            self._add_inbox(receipt)

    def deliver_message(self, *, msg_id: str, nhn_id: str, sender_her: int | None,
                        receiver_her: int | None, document: bytes, gen_date: str) -> None:
        """A message whose receiver answers it itself: stored and put in its inbox (under
        the same id), in one transaction."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO messages (msg_id, nhn_id, sender_her, receiver_her, document,"
                " received_at, apprec_status, apprec_errors) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                (msg_id, nhn_id, sender_her, receiver_her, document, time.time()),
            )
            self._add_inbox(InboxItem(nhn_id=nhn_id, receiver_her=receiver_her,
                                      sender_her=sender_her, business_document_id=msg_id,
                                      gen_date=gen_date, is_apprec=False, document=document,
                                      read=False))

    def add_receipt(self, nhn_id: str, apprec_status: str,
                    apprec_errors: list[dict[str, str | None]], receipt: InboxItem) -> None:
        """The receiver's AppRec for message ``nhn_id``: its status, and the receipt in the
        original sender's inbox."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE messages SET apprec_status = ?, apprec_errors = ?"
                             " WHERE nhn_id = ?", (apprec_status, json.dumps(apprec_errors), nhn_id))
            self._add_inbox(receipt)

    def _add_inbox(self, item: InboxItem) -> None:
        self._db.execute(
            "INSERT INTO inbox (nhn_id, receiver_her, sender_her, business_document_id,"
            " gen_date, is_apprec, document, read) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            (item.nhn_id, item.receiver_her, item.sender_her, item.business_document_id,
             item.gen_date, int(item.is_apprec), item.document),
        )

    def messages(self) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT msg_id, nhn_id, sender_her, receiver_her, document, deliveries,"
            " apprec_status, apprec_errors FROM messages ORDER BY received_at"
        ).fetchall()
        return [_message(r) for r in rows]

    # -- inbox ---------------------------------------------------------------------------

    def unread(self, receiver_hers: list[int]) -> list[InboxItem]:
        marks = ",".join("?" * len(receiver_hers))
        # Only "?" placeholders are interpolated; the values are bound parameters.
        rows = self._db.execute(
            "SELECT nhn_id, receiver_her, sender_her, business_document_id, gen_date,"  # noqa: S608
            f" is_apprec, document, read FROM inbox WHERE read = 0 AND receiver_her IN ({marks})"
            " ORDER BY seq", receiver_hers,
        ).fetchall()
        return [_inbox(r) for r in rows]

    def inbox_item(self, nhn_id: str) -> InboxItem | None:
        row = self._db.execute(
            "SELECT nhn_id, receiver_her, sender_her, business_document_id, gen_date,"
            " is_apprec, document, read FROM inbox WHERE nhn_id = ?", (nhn_id,)
        ).fetchone()
        return _inbox(row) if row else None

    def mark_read(self, nhn_id: str) -> bool:
        cur = self._db.execute("UPDATE inbox SET read = 1 WHERE nhn_id = ?", (nhn_id,))
        return cur.rowcount > 0


def _message(row: tuple[object, ...]) -> StoredMessage:
    msg_id, nhn_id, sender, receiver, document, deliveries, status, errors = row
    return StoredMessage(str(msg_id), str(nhn_id), _int(sender), _int(receiver),
                         bytes(document), int(str(deliveries)),  # type: ignore[call-overload]
                         None if status is None else str(status),
                         json.loads(str(errors)) if errors else [])


def _inbox(row: tuple[object, ...]) -> InboxItem:
    nhn_id, receiver, sender, doc_id, gen, is_apprec, document, read = row
    return InboxItem(str(nhn_id), _int(receiver), _int(sender),
                     None if doc_id is None else str(doc_id), None if gen is None else str(gen),
                     bool(is_apprec), bytes(document), bool(read))  # type: ignore[call-overload]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None
