"""Diagnostics of an entry and of one device, as the entry's kind reports them, redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .entry_kinds import require_kind


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> dict[str, Any]:
    """The entry's title, data and options, and what its kind reports."""
    kind = require_kind(entry)
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            **kind.diagnostics(entry),
        },
        kind.redact,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry[Any], device: DeviceEntry
) -> dict[str, Any]:
    """One device, as its entry's kind reports it (or the whole entry)."""
    kind = require_kind(entry)
    if kind.device_diagnostics is None:
        return await async_get_config_entry_diagnostics(hass, entry)
    return async_redact_data(kind.device_diagnostics(entry, device), kind.redact)
