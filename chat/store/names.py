"""Every Redis key and channel name in one place.

All keys of one conversation carry the hash tag ``{conversation id}`` so they live in one
Redis Cluster slot and the Lua scripts below can touch them together.
"""

from __future__ import annotations


def meta(cid: str) -> str:
    return f"c:{{{cid}}}:m"


def log(cid: str) -> str:
    return f"c:{{{cid}}}:l"


def dedup(cid: str) -> str:
    return f"c:{{{cid}}}:d"


def resume_attempts(cid: str) -> str:
    return f"c:{{{cid}}}:ra"


def conversation_channel(cid: str) -> str:
    return f"c:{{{cid}}}:e"


def conversation_keys(cid: str) -> tuple[str, ...]:
    return (meta(cid), log(cid), dedup(cid), resume_attempts(cid))


def queue(service: str) -> str:
    return f"q:{{{service}}}"


def service_channel(service: str) -> str:
    return f"s:{{{service}}}:e"


def online(service: str) -> str:
    """The service's connected youths: a sorted set, conversation -> presence expiry time."""
    return f"on:{{{service}}}"


def recent_waits(service: str) -> str:
    return f"w:{{{service}}}"


def resume_handle(tag: str) -> str:
    return f"rh:{tag}"


def resume_guesses(tag: str) -> str:
    """Tries of a handle that finds no conversation (counted like a known handle's)."""
    return f"rh:{tag}:n"


def nurse(username: str) -> str:
    return f"nurse:{{{username}}}"


def nurse_open(username: str) -> str:
    return f"nurse:{{{username}}}:open"


def nurse_index() -> str:
    return "nurses"


def session(tag: str) -> str:
    return f"sess:{tag}"


def rate(kind: str, client_key: str, window: int) -> str:
    return f"rl:{kind}:{client_key}:{window}"


# -- the nurse dashboard ---------------------------------------------------------------------------
def notes(cid: str) -> str:
    """Nurse-only internal notes of a conversation (sealed envelopes); never read by a feed."""
    return f"c:{{{cid}}}:n"


def active(service: str) -> str:
    """Active conversations of a service (score: claim time), for the inactivity sweep."""
    return f"act:{{{service}}}"


def flags(service: str) -> str:
    """Risk flags of a service's open conversations: conversation -> kind."""
    return f"fl:{{{service}}}"


def on_duty(service: str) -> str:
    """Nurses with a dashboard connected: "<username> <connection>" scored by expiry time."""
    return f"duty:{{{service}}}"


def canned(service: str) -> str:
    return f"cr:{{{service}}}"


def info_pages(service: str) -> str:
    """A service's information pages: slug -> the page as JSON (public text, no person)."""
    return f"ip:{{{service}}}"


def audit(service: str) -> str:
    return f"au:{{{service}}}"


def day_stats(service: str, day: str) -> str:
    """Per service and local day: counters (metadata only)."""
    return f"st:{{{service}}}:{day}"


def day_samples(service: str, day: str, kind: str) -> str:
    """Per service and local day: seconds samples ("claim" = time to claim, "dur" = duration)."""
    return f"st:{{{service}}}:{day}:{kind}"


def lease(job: str) -> str:
    """The lease of a periodic job (chat/jobs/runner.py): whoever holds it runs the job."""
    return f"lock:{job}"


def nurse_inbox(username: str) -> str:
    """Conversations handed to this nurse by a colleague, not yet shown on her dashboard."""
    return f"nurse:{{{username}}}:in"


def nurse_invites(username: str) -> str:
    """Conversations a colleague asked this nurse to join: conversation -> the asker's
    username. On her slot; whether an invitation still holds is the conversation's hash."""
    return f"nurse:{{{username}}}:inv"


def nurse_helping(username: str) -> str:
    """Conversations this nurse joined as a helper (so her dashboard opens them again after a
    reload); whether she still is one is the conversation's hash."""
    return f"nurse:{{{username}}}:helps"


# -- youths who went away while waiting ------------------------------------------------------------
def absent(service: str) -> str:
    """Waiting youths with no connection: a sorted set, conversation -> since when (the gone
    sweep sets aside those absent longer than the grace)."""
    return f"qa:{{{service}}}"


def set_aside(service: str) -> str:
    """Waiting conversations whose youth went away: a sorted set, conversation -> its place in
    the queue (the original score), restored when the youth comes back."""
    return f"qg:{{{service}}}"


def waiting_slots(client_key: str) -> str:
    """One client's starts still counting in a queue: a sorted set, random slot id -> expiry.
    The slot ids are not conversation ids: nothing here ties a conversation to a client."""
    return f"wsl:{client_key}"


# -- staff sessions and sign-in --------------------------------------------------------------------
def staff_revocations() -> str:
    """The channel that says "this nurse's (or this session's) sockets must close now":
    ``n <username>`` or ``s <session tag>`` (chat/web/revocation.py listens in every process)."""
    return "staff:revoked"


def login_attempts(account_tag: str, who: str) -> str:
    """Sign-in attempts at one account (keyed hash of the username, known or not) from one
    client (keyed hash of the address) or one known device; the hash tag keeps an account's
    keys in one Cluster slot for the counting script."""
    return f"la:{{{account_tag}}}:{who}"


def login_account(account_tag: str) -> str:
    """Sign-in attempts at one account from anywhere, in the current window."""
    return f"la:{{{account_tag}}}"


def login_backoff(account_tag: str) -> str:
    """When the account-wide back-off next lets an attempt through (milliseconds)."""
    return f"la:{{{account_tag}}}:next"


def login_checks() -> str:
    """How many password checks the web processes have made (an operational counter)."""
    return "st:login:checks"


def feedback(service: str, week: str) -> str:
    """Per service and ISO week ("2026-W49"): the youths' "was this helpful?" answers, counted
    ("yes", "no"); nothing in it names a conversation."""
    return f"fb:{{{service}}}:{week}"


def intake_week(service: str, week: str) -> str:
    """Per service and ISO week: what youths chose before their chats, counted ("t:<topic>",
    "urgent"); nothing in it names a conversation."""
    return f"intake:{{{service}}}:{week}"


# -- answer-later ----------------------------------------------------------------------------------
def later_queue(service: str) -> str:
    """The service's answer-later list: later conversations with an answer owed, a sorted set,
    conversation -> owed (the youth's oldest unanswered message), oldest first."""
    return f"later:{{{service}}}"


def later_all(service: str) -> str:
    """Every later conversation of the service, owed or not: a sorted set, conversation -> the
    last activity seen (the later sweep closes those idle past ``close_after_days``)."""
    return f"later:{{{service}}}:all"


def later_week(service: str, week: str) -> str:
    """Per service and ISO week: owed answers of conversations that waited in the answer-later
    list, counted when a nurse answered ("answered") and answered by the promise ("within");
    nothing in it names a conversation."""
    return f"later:{{{service}}}:{week}"


# -- Web Push (chat/push/) -------------------------------------------------------------------------
def push_subscription(cid: str) -> str:
    """A youth's sealed push subscription, beside its conversation (same slot, same TTL)."""
    return f"c:{{{cid}}}:push"


def nurse_push(username: str) -> str:
    """A nurse's sealed push subscription."""
    return f"nurse:{{{username}}}:push"


def owner_push(owner: str) -> str:
    """A logged-in person's sealed push subscription (appointment reminders), by the lookup
    tag the identity bridge files the person under; beside the person's other keys."""
    return f"yp:{{{owner}}}:push"


def push_sent(name: str, hour: int) -> str:
    """Notices sent in one hour about one conversation (``c:<cid>``) or nurse (``n:<user>``)."""
    return f"push:n:{{{name}}}:{hour}"


def reminder_delivery(owner: str, ref: str) -> str:
    """A reminder's delivery id in ``push_due``: ``r:<owner>:<ref>``."""
    return f"r:{owner}:{ref}"


def push_due() -> str:
    """Deliveries to make: a sorted set, delivery -> when it is due."""
    return "push:due"


def push_tries() -> str:
    """Failed tries of the deliveries in ``push_due``: a hash, delivery -> count."""
    return "push:tries"


# -- moves under way on a Redis Cluster (chat/store/clustered.py, chat/jobs/repair.py) -------------
def moves(service: str) -> str:
    """Moves of the service's conversations that are under way in steps (Redis Cluster only): a
    sorted set, member -> when the move began. Each move writes its members before the
    conversation's own step and removes them in its last step, so what stays past a grace is
    a move whose process died in between: the repair sweep completes it from the hash."""
    return f"mv:{{{service}}}"


def move_members(cid: str, *nurses: str) -> list[str]:
    """A move's members: ``cid`` (the service's lists), and ``cid nurse`` for each nurse whose
    slot set the move may change."""
    return [cid, *(f"{cid} {n}" for n in dict.fromkeys(nurses) if n)]


def move_member_parts(member: str) -> tuple[str, str]:
    """(conversation, nurse ('' for the service's own member))."""
    cid, _, nurse = member.partition(" ")
    return cid, nurse


# -- fair use per capability token (chat/store/fairuse.py) -----------------------------------------
# ``tag`` is the keyed fair-use tag of a capability token (anon/tokens.py), never the token. The
# three keys share the tag's hash tag: one script checks and takes a start on one cluster slot.
def fair_open(tag: str) -> str:
    """The capability's open conversations: a sorted set, conversation id -> when it lapses."""
    return f"fu:{{{tag}}}:o"


def fair_new(tag: str) -> str:
    """The capability's recent starts: a sorted set, random start id -> when it started."""
    return f"fu:{{{tag}}}:n"


def fair_pause(tag: str) -> str:
    """A nurse's pause of new starts from the capability: "<until> <nurse>", expiring then."""
    return f"fu:{{{tag}}}:p"


def nurse_break(username: str) -> str:
    """Set while the nurse is on a break: not on duty, no claims, no alerts (expires)."""
    return f"nurse:{{{username}}}:break"
