"""Nurses, their roles, and which services a lead may oversee."""

from __future__ import annotations

from dataclasses import dataclass

from chat.config import Config, Service
from chat.errors import NotAuthorized, UnknownService

ROLES = ("nurse", "lead", "admin")
LEAD_ROLES = ("lead", "admin")


@dataclass(frozen=True)
class Nurse:
    username: str
    display_name: str
    role: str  # "nurse" | "lead" | "admin"
    services: frozenset[str]


def is_lead(nurse: Nurse) -> bool:
    return nurse.role in LEAD_ROLES


def lead_services(config: Config, nurse: Nurse) -> list[Service]:
    """Services whose overview and audit log this account may see (server-side rule)."""
    if nurse.role == "admin":
        return list(config.services.values())
    if nurse.role == "lead":
        return [s for s in config.services.values() if s.id in nurse.services]
    return []


def transfer_targets(config: Config, service: Service) -> list[Service]:
    """Where a conversation of ``service`` may be transferred: the services of the same
    municipality. The dashboard offers only these and the server refuses any other, since a
    transfer hands the whole history to the receiving service's nurses, and a conversation
    belongs to the municipality it was started in, whatever else its nurse staffs."""
    return [s for s in config.services.values() if s.municipality == service.municipality]


def require_lead(config: Config, nurse: Nurse, service: str) -> Service:
    svc = config.service(service)
    if svc is None:
        raise UnknownService()
    if svc not in lead_services(config, nurse):
        raise NotAuthorized("Only the service's leads can see this.")
    return svc
