"""A service's intake topics in the services file: the defaults, its own list, none, and bad
lists refused at start-up with a reason."""

from __future__ import annotations

import tomllib

import pytest

from chat.config import ConfigError, parse_services
from chat.intakeconfig import DEFAULT_TOPICS
from chat.limits import parse_limits

BASE = '[[municipality]]\nid="m"\n[[service]]\nid="s"\nmunicipality="m"\n'


def test_default_topics_and_a_service_s_own() -> None:
    svc = parse_services(tomllib.loads(BASE))[1]["s"]
    assert svc.topics == DEFAULT_TOPICS
    assert [t.code for t in svc.topics] == ["body", "mental", "sexual", "relations", "other"]
    own = BASE + ('[[service.topics]]\ncode="rus"\nnb="Rus"\nnn="Rus"\nen="Drugs and alcohol"\n'
                  '[[service.topics]]\ncode="school_life"\nnb="Skole"\nnn="Skule"\nen="School"\n')
    topics = parse_services(tomllib.loads(own))[1]["s"].topics
    assert [t.code for t in topics] == ["rus", "school_life"]
    assert [topics[1].label(lang) for lang in ("nb", "nn", "en", "xx")] == [
        "Skole", "Skule", "School", "Skole"]
    none = BASE + "topics = []\n"
    assert parse_services(tomllib.loads(none))[1]["s"].topics == ()


@pytest.mark.parametrize(("topics", "message"), [
    ('topics = "body"', "topics must be an array of tables"),
    ('topics = ["body"]', "must be a table of code, nb, nn, en"),
    ('topics = [{code="Body", nb="a", nn="a", en="a"}]', "code must be lowercase"),
    ('topics = [{code="a", nb="a", nn="a"}]', "needs a label in each of nb, nn and en"),
    ('topics = [{code="a", nb="a", nn=" ", en="a"}]', "needs a label in each"),
    ('topics = [{code="a", nb="a", nn="a", en="a"}, {code="a", nb="b", nn="b", en="b"}]',
     "duplicate code 'a'"),
    ('topics = [{code="a", nb="a", nn="a", en="a", se="a"}]', "unknown key 'se'"),
])
def test_bad_topics_are_refused_with_a_reason(topics: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"service\[0\]\.topics") as err:
        parse_services(tomllib.loads(BASE + topics + "\n"))
    assert message in str(err.value)


def test_head_starts_are_limits() -> None:
    limits = parse_limits({"urgent_head_start_seconds": 300, "acute_head_start_seconds": 1200})
    assert (limits.urgent_head_start_seconds, limits.acute_head_start_seconds) == (300, 1200)
    assert parse_limits(None).urgent_head_start_seconds == 600
    assert parse_limits(None).acute_head_start_seconds == 900
