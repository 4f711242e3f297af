"""The base of the typed outbound events (chat/protocol/events.py): how a frame's fields are
laid out on the wire, and the JSON encoder every frame shares."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar, cast

from chat.protocol import PROTOCOL_VERSION

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

JSONObject = dict[str, object]

# attribute name, wire name, left out when None
Layout = tuple[tuple[str, str, bool], ...]
_layouts: dict[type[Event], Layout] = {}


def _layout(cls: type[Event]) -> Layout:
    layout = _layouts.get(cls)
    if layout is None:
        layout = tuple((f.name, f.name.rstrip("_"), f.name in cls.optional)
                       for f in dataclasses.fields(cast(Any, cls)))
        _layouts[cls] = layout
    return layout


class Event:
    """Base of every outbound event; subclasses are frozen, keyword-only dataclasses."""

    __slots__ = ()
    type: ClassVar[str]
    optional: ClassVar[frozenset[str]] = frozenset()

    def payload(self) -> JSONObject:
        """The frame as a dict, in wire order."""
        out: JSONObject = {"v": PROTOCOL_VERSION, "type": self.type}
        for attr, wire, optional in _layout(type(self)):
            value = getattr(self, attr)
            if value is None and optional:
                continue
            out[wire] = value
        return out
