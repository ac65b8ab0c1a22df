"""Diagnostics of the cloud bridge entry: the bridge's last status, its token redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.const import CONF_TOKEN

from .bridge_coordinator import BridgeConfigEntry

# The bridge's API token; the instance password never leaves the bridge.
BRIDGE_TO_REDACT = frozenset({CONF_TOKEN})


def bridge_diagnostics(entry: BridgeConfigEntry) -> dict[str, Any]:
    """Whether the last poll succeeded, and the bridge's last status."""
    coordinator = entry.runtime_data
    return {
        "last_update_success": coordinator.last_update_success,
        "status": coordinator.data,
    }
