"""Default-deny exposure: which commands from the cloud may reach Home Assistant."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

# Domains whose services act on the system, not on a device: refused whatever the list says.
FORBIDDEN_DOMAINS: frozenset[str] = frozenset(
    {
        "hassio",
        "shell_command",
        "python_script",
        "pyscript",
        "script",
        "automation",
        "scene",
        "recorder",
        "system_log",
        "logger",
        "backup",
        "homeassistant",
        "persistent_notification",
        "notify",
        "rest_command",
        "command_line",
        "conversation",
        "tts",
        "cloud",
        "hassio_addon",
        "frontend",
        "zha",
        "mqtt",
        "update",
        "device_tracker",
        "person",
    }
)


@dataclass(frozen=True, slots=True)
class ExposureDecision:
    """Whether a command may run, and why (the reason is shown to the user)."""

    allowed: bool
    reason: str


def decide(service: str, entity_id: str, allowed_entities: Collection[str]) -> ExposureDecision:
    """Allow only an allow-listed entity, a service of its own domain, no forbidden domain."""
    domain, _, name = service.partition(".")
    entity_domain = entity_id.partition(".")[0]
    if not domain or not name:
        return ExposureDecision(False, f"{service!r} is not a domain.service name")
    if domain in FORBIDDEN_DOMAINS:
        return ExposureDecision(False, f"services of {domain} are never allowed from the cloud")
    if entity_domain in FORBIDDEN_DOMAINS:
        return ExposureDecision(False, f"{entity_domain} entities are never controlled remotely")
    if entity_id not in allowed_entities:
        return ExposureDecision(False, f"{entity_id} is not exposed to the cloud")
    if domain != entity_domain:
        return ExposureDecision(
            False, f"{service} does not belong to {entity_id}'s domain ({entity_domain})"
        )
    return ExposureDecision(True, "exposed")
