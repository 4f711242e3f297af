"""The bounded JSON reader (no I/O): depth, size, surrogates and encodings."""

from __future__ import annotations

import pytest

from chat.protocol.jsontext import MAX_DEPTH, JsonRefused, parse_json


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_parses_and_one_more_is_refused() -> None:
    value = parse_json(nested(MAX_DEPTH))
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == []
    with pytest.raises(JsonRefused, match="nested too deeply"):
        parse_json(nested(MAX_DEPTH + 1))
    with pytest.raises(JsonRefused):
        parse_json("[" * 100_000)
    with pytest.raises(JsonRefused):
        parse_json('{"a":' * 5000 + "1" + "}" * 5000)


def test_many_brackets_side_by_side_are_not_depth() -> None:
    assert parse_json("[" + ",".join(["[]"] * 500) + "]") == [[]] * 500


def test_brackets_inside_strings_are_text() -> None:
    text = '{"a": "' + "[{" * 1000 + '\\"]"}'
    assert parse_json(text) == {"a": "[{" * 1000 + '"]'}


def test_lone_surrogates_are_refused_and_pairs_are_one_character() -> None:
    for text in ('"\\ud800"', '{"\\udc00": 1}', '["a", "\\udbff\\u0041"]', '"\\uDFFF"'):
        with pytest.raises(JsonRefused, match="lone surrogate"):
            parse_json(text)
    assert parse_json('"\\ud83d\\ude00"') == "\U0001f600"
    assert parse_json('"\\\\ud800"') == "\\ud800"  # an escaped backslash, then plain text


def test_bytes_must_be_utf8_and_size_is_bounded() -> None:
    assert parse_json(b'{"a": "\xc3\xa6"}') == {"a": "æ"}
    for raw in (b'"\xff"', '"a"'.encode("utf-16"), b'"\xed\xa0\x80"'):
        with pytest.raises(JsonRefused, match="not UTF-8"):
            parse_json(raw)
    with pytest.raises(JsonRefused, match="too large"):
        parse_json('"' + "a" * 100 + '"', max_chars=50)
    with pytest.raises(JsonRefused, match="not JSON"):
        parse_json("{nope")
