"""Typed configuration, read once at start-up and passed explicitly.

Two sources: the environment (where things are: Redis, the services file, the secrets folder)
and a TOML file of municipalities and services (what they are: names, opening hours, retention,
crisis numbers, members). Secrets are files, never environment values, so they do not show up in
``ps`` output or crash dumps.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from chat.durability import ReplicaWait, parse_replica_wait
from chat.edgeconfig import parse_allowed_hosts, parse_forwarded_header, parse_proxies
from chat.errors import ConfigError
from chat.intakeconfig import DEFAULT_TOPICS, Topic, parse_topics
from chat.laterconfig import AnswerLater, parse_answer_later
from chat.limits import Limits, parse_limits

CHAT_SECTIONS = frozenset({"municipality", "service", "limits"})  # what chat reads itself
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
METRICS_ALLOW_DEFAULT = "127.0.0.1/32,::1/128"  # GET /metrics from this host only
DEFAULT_OUTCOMES = ("advice_given", "follow_up_booked", "referred", "no_reply", "other")
# Nationwide numbers a young person can always call (shown on every page, open or closed).
NATIONAL_CRISIS_NUMBERS = (
    ("emergency", "113"),
    ("alarmtelefonen", "116 111"),
    ("mental_helse", "116 123"),
)


@dataclass(frozen=True)
class CrisisNumber:
    label: str
    number: str
    # The label in other languages ("label_nn", "label_en" in the services file).
    translations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours (None = closed that day) plus holidays when the service is closed."""

    weekly: tuple[tuple[dt.time, dt.time] | None, ...]  # index 0 = Monday
    holidays: frozenset[dt.date] = frozenset()

    def is_open(self, at: dt.datetime) -> bool:
        if at.date() in self.holidays:
            return False
        span = self.weekly[at.weekday()]
        return span is not None and span[0] <= at.time() < span[1]

    def today(self, at: dt.datetime) -> tuple[dt.time, dt.time] | None:
        if at.date() in self.holidays:
            return None
        return self.weekly[at.weekday()]

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """The next moment the service opens after ``at`` (None if it never opens)."""
        for offset in range(0, 15):
            day = at.date() + dt.timedelta(days=offset)
            if day in self.holidays:
                continue
            span = self.weekly[day.weekday()]
            if span is None:
                continue
            start = dt.datetime.combine(day, span[0], tzinfo=at.tzinfo)
            if start > at:
                return start
        return None


@dataclass(frozen=True)
class Municipality:
    id: str
    name: str
    crisis_numbers: tuple[CrisisNumber, ...] = ()
    escalation: str = ""


@dataclass(frozen=True)
class Service:
    id: str
    municipality: str
    name: str
    kind: str  # "school" | "clinic"
    hours: OpeningHours
    timezone: ZoneInfo
    retention_days: int
    members: tuple[str, ...]
    outcomes: tuple[str, ...] = DEFAULT_OUTCOMES
    max_chats_per_nurse: int = 4
    # Live dashboard: alert again while a chat waits longer than this; auto-close an
    # active chat after this long without messages, warning the youth this long before.
    target_wait_seconds: int = 120
    inactivity_close_minutes: int = 60
    inactivity_warning_minutes: int = 10
    audit_retention_days: int = 365
    # The youth's expected wait per place in the queue until the service has claim history.
    expected_wait_minutes: int = 5
    # The greeting shown in the chat once it starts, per language (empty: the default text).
    welcome: Mapping[str, str] = field(default_factory=dict)
    # Messages while closed or no nurse is on duty, and the promised answer time.
    answer_later: AnswerLater = field(default_factory=AnswerLater)
    # What the youth may say before the chat starts (chat/intakeconfig.py).
    topics: tuple[Topic, ...] = DEFAULT_TOPICS

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86_400

    def local_now(self, now: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(now, tz=self.timezone)


@dataclass(frozen=True)
class Secrets:
    token_key: bytes  # HMAC key for capability tokens, resume handles and client keys
    session_key: bytes  # HMAC key for nurse session ids and CSRF tokens


@dataclass(frozen=True)
class Config:
    environment: str  # "dev" | "test" | "prod"
    redis_url: str | None  # None: start a private redis-server under data_dir
    data_dir: Path
    public_url: str
    services_file: Path
    secrets: Secrets
    municipalities: Mapping[str, Municipality]
    services: Mapping[str, Service]
    secure_cookies: bool
    limits: Limits = field(default_factory=Limits)
    # How many Redis replicas an acked write waits for (HELSEPRAT_REDIS_WAIT_REPLICAS and
    # HELSEPRAT_REDIS_WAIT_TIMEOUT_MS; chat/durability.py).
    replica_wait: ReplicaWait = field(default_factory=ReplicaWait)
    quick_exit_url: str = "https://www.yr.no/"
    # Test only (HELSEPRAT_ENV=test): a file holding seconds to add to the wall clock, so a
    # browser test can move a real web process's time forward (auto-close) without sleeping.
    test_clock_file: Path | None = None
    # What an extension parses for itself (chat/extensions.py), once, at start-up: the tables
    # of the services file that chat does not read ([idporten], [epj]), the environment as it
    # was read (HELSEPRAT_* only), and where the secrets are.
    sections: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets_dir: Path = Path("var/secrets")
    # The Host header values served (the public URL's host, plus HELSEPRAT_ALLOWED_HOSTS);
    # empty: every host (a Config built by hand in a unit test).
    allowed_hosts: frozenset[str] = frozenset()
    # Peers whose forwarded header names the client (HELSEPRAT_TRUSTED_PROXIES), and which
    # header that is (HELSEPRAT_FORWARDED_HEADER): anyone else's forwarded headers are ignored.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    forwarded_header: str = "x-forwarded-for"
    # Who may read GET /metrics (HELSEPRAT_METRICS_ALLOW; the client as for the rate limits,
    # through the trusted proxies): anyone else gets 404. Loopback only unless configured.
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))

    def service(self, service_id: str) -> Service | None:
        return self.services.get(service_id)

    def services_of(self, member: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services.values() if member in s.members)


def _clock_time(hour: int, minute: int, where: str, day: str) -> dt.time:
    """HH:MM, where 24:00 means the end of the day (so 00:00-24:00 is open all day)."""
    if (hour, minute) == (24, 0):
        return dt.time.max
    if hour > 23 or minute > 59:
        raise ConfigError(f"{where}.hours.{day}: {hour:02}:{minute:02} is not a time of day")
    return dt.time(hour, minute)


def _parse_hours(raw: Mapping[str, object], where: str) -> OpeningHours:
    weekly: list[tuple[dt.time, dt.time] | None] = []
    daily = raw.get("daily")  # the same hours every day, unless a weekday says otherwise
    for day in WEEKDAYS:
        value = raw.get(day, daily)
        if value in (None, "", "closed"):
            weekly.append(None)
            continue
        m = _HOURS.match(str(value))
        if not m:
            raise ConfigError(f"{where}.hours.{day}: expected HH:MM-HH:MM, got {value!r}")
        a = _clock_time(int(m[1]), int(m[2]), where, day)
        b = _clock_time(int(m[3]), int(m[4]), where, day)
        if b <= a:
            raise ConfigError(f"{where}.hours.{day}: closing time must be after opening time")
        weekly.append((a, b))
    holidays_raw = raw.get("holidays", [])
    if not isinstance(holidays_raw, list):
        raise ConfigError(f"{where}.hours.holidays must be a list of dates")
    holidays = frozenset(
        h if isinstance(h, dt.date) else dt.date.fromisoformat(str(h)) for h in holidays_raw
    )
    return OpeningHours(weekly=tuple(weekly), holidays=holidays)


def _crisis(raw: object, where: str) -> tuple[CrisisNumber, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.crisis_numbers must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict) or "label" not in item or "number" not in item:
            raise ConfigError(f"{where}.crisis_numbers: each needs label and number")
        out.append(CrisisNumber(label=str(item["label"]), number=str(item["number"]),
                                translations={k[6:]: str(v) for k, v in item.items()
                                              if k.startswith("label_")}))
    return tuple(out)


def _parse_municipalities(data: Mapping[str, object]) -> dict[str, Municipality]:
    municipalities: dict[str, Municipality] = {}
    raw_m = data.get("municipality", [])
    if not isinstance(raw_m, list):
        raise ConfigError("[[municipality]] must be an array of tables")
    for i, m in enumerate(raw_m):
        where = f"municipality[{i}]"
        mid = str(m.get("id", ""))
        if not _ID.match(mid):
            raise ConfigError(f"{where}.id must be lowercase letters, digits and dashes")
        if mid in municipalities:
            raise ConfigError(f"{where}: duplicate id {mid!r}")
        municipalities[mid] = Municipality(
            id=mid,
            name=str(m.get("name", mid)),
            crisis_numbers=_crisis(m.get("crisis_numbers", []), where),
            escalation=str(m.get("escalation", "")),
        )
    return municipalities


def parse_services(data: Mapping[str, object]) -> tuple[dict[str, Municipality], dict[str, Service]]:
    """Municipalities and services from the TOML document (already parsed)."""
    municipalities = _parse_municipalities(data)
    services: dict[str, Service] = {}
    raw_s = data.get("service", [])
    if not isinstance(raw_s, list):
        raise ConfigError("[[service]] must be an array of tables")
    for i, s in enumerate(raw_s):
        where = f"service[{i}]"
        sid = str(s.get("id", ""))
        if not _ID.match(sid):
            raise ConfigError(f"{where}.id must be lowercase letters, digits and dashes")
        if sid in services:
            raise ConfigError(f"{where}: duplicate id {sid!r}")
        muni = str(s.get("municipality", ""))
        if muni not in municipalities:
            raise ConfigError(f"{where}.municipality {muni!r} is not defined")
        retention = int(s.get("retention_days", 30))
        if not 1 <= retention <= 3650:
            raise ConfigError(f"{where}.retention_days must be between 1 and 3650")
        kind = str(s.get("kind", "school"))
        if kind not in ("school", "clinic"):
            raise ConfigError(f"{where}.kind must be 'school' or 'clinic'")
        try:
            tz = ZoneInfo(str(s.get("timezone", "Europe/Oslo")))
        except Exception as exc:
            raise ConfigError(f"{where}.timezone: {exc}") from None
        outcomes = tuple(str(o) for o in s.get("outcomes", DEFAULT_OUTCOMES))
        if not outcomes:
            raise ConfigError(f"{where}.outcomes must not be empty")
        services[sid] = Service(
            id=sid,
            municipality=muni,
            name=str(s.get("name", sid)),
            kind=kind,
            hours=_parse_hours(s.get("hours", {}), where),
            timezone=tz,
            retention_days=retention,
            members=tuple(str(x) for x in s.get("members", [])),
            outcomes=outcomes,
            max_chats_per_nurse=int(s.get("max_chats_per_nurse", 4)), welcome=_welcome(s, where),
            answer_later=parse_answer_later(s.get("answer_later"), where),
            topics=parse_topics(s.get("topics"), where),
            **_dashboard_fields(s, where),
        )
    return municipalities, services


def _welcome(s: Mapping[str, object], where: str) -> dict[str, str]:
    raw = s.get("welcome", {})
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ConfigError(f"{where}.welcome must be a table of language = text")
    return {str(k): v.strip() for k, v in raw.items() if v.strip()}


def _dashboard_fields(s: Mapping[str, object], where: str) -> dict[str, int]:
    """The optional dashboard settings of a service, checked."""
    out: dict[str, int] = {}
    bounds = {"target_wait_seconds": (120, 1, 86_400),
              "inactivity_close_minutes": (60, 1, 7 * 24 * 60),
              "inactivity_warning_minutes": (10, 0, 7 * 24 * 60),
              "audit_retention_days": (365, 1, 3650),
              "expected_wait_minutes": (5, 1, 240)}
    for name, (default, lo, hi) in bounds.items():
        raw = s.get(name, default)
        if not isinstance(raw, int) or isinstance(raw, bool) or not lo <= raw <= hi:
            raise ConfigError(f"{where}.{name} must be a whole number between {lo} and {hi}")
        out[name] = raw
    if out["inactivity_warning_minutes"] >= out["inactivity_close_minutes"]:
        raise ConfigError(f"{where}.inactivity_warning_minutes must be less than "
                          "inactivity_close_minutes")
    return out


def _read_secret(path: Path) -> bytes:
    try:
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from None
    if len(raw) < 32:
        raise ConfigError(f"secret file {path} must hold at least 32 bytes")
    return raw


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read the whole configuration once. Raises ConfigError with a readable reason."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("HELSEPRAT_DATA_DIR", "var")).resolve()
    services_file = Path(env.get("HELSEPRAT_SERVICES", str(data_dir / "services.toml")))
    secrets_dir = Path(env.get("HELSEPRAT_SECRETS_DIR", str(data_dir / "secrets")))
    try:
        data = tomllib.loads(services_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read services file {services_file}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"services file {services_file} is not valid TOML: {exc}") from None
    municipalities, services = parse_services(data)
    environment = env.get("HELSEPRAT_ENV", "dev")
    if environment not in ("dev", "test", "prod"):
        raise ConfigError("HELSEPRAT_ENV must be dev, test or prod")
    public_url = env.get("HELSEPRAT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return Config(
        environment=environment,
        redis_url=env.get("REDIS_URL") or None,
        data_dir=data_dir,
        public_url=public_url,
        services_file=services_file,
        secrets=Secrets(
            token_key=_read_secret(secrets_dir / "token_key"),
            session_key=_read_secret(secrets_dir / "session_key"),
        ),
        municipalities=municipalities,
        services=services,
        secure_cookies=public_url.startswith("https://"),
        limits=parse_limits(data.get("limits")),
        replica_wait=parse_replica_wait(env),
        quick_exit_url=env.get("HELSEPRAT_QUICK_EXIT_URL", "https://www.yr.no/"),
        test_clock_file=(Path(env["HELSEPRAT_TEST_CLOCK_FILE"])
                         if environment == "test" and env.get("HELSEPRAT_TEST_CLOCK_FILE")
                         else None),
        sections={name: value for name, value in data.items()
                  if name not in CHAT_SECTIONS and isinstance(value, dict)},
        env={k: v for k, v in env.items() if k.startswith("HELSEPRAT_")},
        secrets_dir=secrets_dir,
        allowed_hosts=parse_allowed_hosts(public_url, env.get("HELSEPRAT_ALLOWED_HOSTS", "")),
        trusted_proxies=parse_proxies(env.get("HELSEPRAT_TRUSTED_PROXIES", "")),
        forwarded_header=parse_forwarded_header(
            env.get("HELSEPRAT_FORWARDED_HEADER", "x-forwarded-for")),
        metrics_allow=parse_proxies(env.get("HELSEPRAT_METRICS_ALLOW", METRICS_ALLOW_DEFAULT),
                                    "HELSEPRAT_METRICS_ALLOW"),
    )

