"""Frames only the nurse dashboard receives."""

from __future__ import annotations

from chat.actions import Nurse
from chat.config import Config
from chat.protocol import frames


def hello(config: Config, nurse: Nurse, open_ids: list[str]) -> str:
    services = [
        {"id": s.id, "name": s.name, "outcomes": list(s.outcomes)}
        for s in config.services.values() if s.id in nurse.services
    ]
    return frames.frame("hello", nurse=nurse.display_name, role=nurse.role, services=services,
                        open=open_ids)
