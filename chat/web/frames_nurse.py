"""Frames only the nurse dashboard receives."""

from __future__ import annotations

import base64

from chat.actions.conversations import Nurse
from chat.config import Config
from chat.protocol import frames


def hello(config: Config, nurse: Nurse, open_ids: list[str]) -> str:
    services = [
        {"id": s.id, "name": s.name, "outcomes": list(s.outcomes)}
        for s in config.services.values() if s.id in nurse.services
    ]
    extra: dict[str, object] = {}
    if config.epj is not None:  # send to journal (issue 7): the gateway key the browser seals to
        extra["journal"] = {
            "services": sorted(s for s in nurse.services if config.epj.enabled_for(s)),
            "gateway_key": base64.b64encode(config.epj.gateway_public_key).decode(),
        }
    return frames.frame("hello", nurse=nurse.display_name, role=nurse.role, services=services,
                        open=open_ids, **extra)
