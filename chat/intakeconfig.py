"""A service's intake topics: the optional ``topics`` of a ``[[service]]`` in the services
file, checked once at start-up. The youth may pick one before the chat starts (never required);
the code travels in the ``start`` frame, the labels are shown to the youth and to nurses.

    [[service.topics]]
    code = "body"
    nb = "Kropp og helse"
    nn = "Kropp og helse"
    en = "Body and health"

``topics = []`` shows no topic chips (the "is it urgent?" choice stays).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chat.errors import ConfigError

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
LANGS = ("nb", "nn", "en")


@dataclass(frozen=True)
class Topic:
    code: str
    nb: str
    nn: str
    en: str

    def label(self, lang: str) -> str:
        return {"nn": self.nn, "en": self.en}.get(lang, self.nb)


DEFAULT_TOPICS = (
    Topic("body", "Kropp og helse", "Kropp og helse", "Body and health"),
    Topic("mental", "Psykisk helse", "Psykisk helse", "Mental health"),
    Topic("sexual", "Seksuell helse", "Seksuell helse", "Sexual health"),
    Topic("relations", "Venner og familie", "Vener og familie", "Friends and family"),
    Topic("other", "Noe annet", "Noko anna", "Something else"),
)


def parse_topics(raw: object, where: str) -> tuple[Topic, ...]:
    """The service's topics (absent: the defaults)."""
    if raw is None:
        return DEFAULT_TOPICS
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.topics must be an array of tables")
    out: list[Topic] = []
    for i, t in enumerate(raw):
        at = f"{where}.topics[{i}]"
        if not isinstance(t, dict):
            raise ConfigError(f"{at} must be a table of code, nb, nn, en")
        code = t.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise ConfigError(f"{at}.code must be lowercase letters, digits, _ or -")
        if any(o.code == code for o in out):
            raise ConfigError(f"{at}: duplicate code {code!r}")
        labels = [t.get(lang) for lang in LANGS]
        if not all(isinstance(x, str) and x.strip() for x in labels):
            raise ConfigError(f"{at} needs a label in each of nb, nn and en")
        unknown = set(t) - {"code", *LANGS}
        if unknown:
            raise ConfigError(f"{at}: unknown key {sorted(unknown)[0]!r}")
        out.append(Topic(code, *(str(x).strip() for x in labels)))
    return tuple(out)
