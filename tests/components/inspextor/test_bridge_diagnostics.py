"""Diagnostics of the bridge entry: the token never appears."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .bridge_helpers import BRIDGE_ID, TOKEN, FakeBridge
from .helpers import find_device


async def test_entry_diagnostics_redact_the_token(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
) -> None:
    """The entry (token redacted) and the bridge's last status."""
    result = await get_diagnostics_for_config_entry(hass, hass_client, init_bridge)
    assert TOKEN not in json.dumps(result)
    assert result["entry"]["data"]["token"] == "**REDACTED**"
    assert result["entry"]["data"]["host"] == "127.0.0.1"
    assert result["status"] == bridge.status
    assert result["last_update_success"] is True
    device = find_device(hass, BRIDGE_ID)
    assert device is not None
    assert await get_diagnostics_for_device(hass, hass_client, init_bridge, device) == result
