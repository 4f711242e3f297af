"""Hypothesis strategies for the protocol's frames, drawn from chat/protocol/schema.json itself.

``valid_frame(role, kind)`` builds frames the schema accepts (only the keywords schema.json
uses are understood; an unknown keyword fails loudly so a schema change cannot silently make
the generator weaker). ``mutated_frame`` bends a valid frame one way; ``any_frame`` is every
kind of input a socket can carry. Text is drawn without lone surrogates and nesting stays
shallow: those inputs are the known crashes pinned separately (see the known-inputs tests).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

Json = Any
_KNOWN = {"type", "required", "additionalProperties", "properties", "$ref", "const", "enum",
          "pattern", "minLength", "maxLength", "minimum", "maximum", "anyOf",
          "dependentRequired"}


@cache
def schema_document() -> dict[str, Any]:
    text = resources.files("chat.protocol").joinpath("schema.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def inbound_kinds(role: str) -> list[str]:
    return sorted(schema_document()["inbound"][role])


@cache
def inbound_validator(role: str, kind: str) -> Draft202012Validator:
    doc = schema_document()
    return Draft202012Validator({"$defs": doc["$defs"], **doc["inbound"][role][kind]})


@cache
def outbound_validator(kind: str) -> Draft202012Validator:
    doc = schema_document()
    return Draft202012Validator({"$defs": doc["$defs"], **doc["outbound"][kind]})


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        node = {**schema_document()["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _string(node: dict[str, Any]) -> st.SearchStrategy[str]:
    lo, hi = node.get("minLength", 0), node.get("maxLength")
    if "pattern" not in node:
        return st.text(min_size=lo, max_size=hi if hi is not None else 40)
    # The schema's "^…$" also lets a trailing newline through (Python's "$"); valid frames
    # here are the canonical ones: the pattern matched in full.
    inner = node["pattern"].removeprefix("^").removesuffix("$")
    one_class = re.fullmatch(r"(\[[^\]]+\])\+", inner)
    if one_class:  # "[a-z ]+" of 5 to 40: say so in the pattern rather than filter draws
        inner = f"{one_class[1]}{{{max(lo, 1)},{'' if hi is None else hi}}}"
    strategy = st.from_regex(re.compile(inner), fullmatch=True)
    return strategy.filter(lambda s: lo <= len(s) and (hi is None or len(s) <= hi))


def from_schema(node: dict[str, Any]) -> st.SearchStrategy[Json]:
    """Values the (resolved) schema ``node`` accepts."""
    node = _resolve(node)
    unknown = set(node) - _KNOWN
    assert not unknown, f"teach tests/chat/protocol/strategies.py the keyword(s) {unknown}"
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "string":
        return _string(node)
    if kind == "integer":
        return st.integers(node.get("minimum"), node.get("maximum", 2**53 - 1))
    if kind == "boolean":
        return st.booleans()
    if kind == "object":
        return _object(node)
    raise AssertionError(f"teach tests/chat/protocol/strategies.py the schema {node}")


def _object(node: dict[str, Any]) -> st.SearchStrategy[dict[str, Json]]:
    props: dict[str, Any] = node.get("properties", {})
    required = set(node.get("required", ()))
    fixed = {k: from_schema(v) for k, v in props.items() if k in required}
    optional = {k: from_schema(v) for k, v in props.items() if k not in required}
    return st.fixed_dictionaries(fixed, optional=optional)


def valid_frame(role: str, kind: str) -> st.SearchStrategy[dict[str, Json]]:
    schema = schema_document()["inbound"][role][kind]
    if "anyOf" not in schema and "dependentRequired" not in schema:
        return _object(schema)
    # anyOf / dependentRequired (transfer) are checked, not built: most draws satisfy them.
    return _object(schema).filter(inbound_validator(role, kind).is_valid)


def any_valid_frame(role: str) -> st.SearchStrategy[dict[str, Json]]:
    return st.sampled_from(inbound_kinds(role)).flatmap(lambda k: valid_frame(role, k))


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(
    max_size=30)
json_values: st.SearchStrategy[Json] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_frame(draw: st.DrawFn, role: str) -> dict[str, Json]:
    """A valid frame bent one way: a key dropped, added or given another value."""
    frame = dict(draw(any_valid_frame(role)))
    how = draw(st.sampled_from(["drop", "add", "replace", "retype"]))
    key = draw(st.sampled_from(sorted(frame)))
    if how == "drop":
        del frame[key]
    elif how == "add":
        frame[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    elif how == "replace":
        frame[key] = draw(json_values)
    else:
        kinds = inbound_kinds("youth") + inbound_kinds("nurse") + ["", "x" * 80]
        frame["type"] = draw(st.sampled_from(kinds) | st.text(max_size=12))
    return frame


def any_frame(role: str, size: int = 300) -> st.SearchStrategy[str | bytes]:
    """Whatever a client can put in a WebSocket message (``size``: of the unstructured ones)."""
    as_text = st.builds(json.dumps, any_valid_frame(role) | mutated_frame(role) | json_values)
    return st.one_of(
        as_text,
        as_text.map(lambda s: s.encode()),
        st.binary(max_size=size),
        st.text(max_size=size),
        st.builds(lambda s, cut: s[:cut], as_text, st.integers(0, 60)),  # cut short
    )
