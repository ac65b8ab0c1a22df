"""Diagnostics: counters that explain what happened, labels redacted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, MqttMockHAClient
from syrupy.assertion import SnapshotAssertion

from custom_components.inspextor.const import DOMAIN

from .helpers import find_device, fire_raw, fire_status, next_command


async def _make_history(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """One failed command (two resends), one pending, malformed and ignored messages."""
    fire_status(hass, "kitchen/1", "M", 40)
    fire_raw(hass, "inspextor/kitchen/1/M/status", "[1]")
    fire_raw(hass, "inspextor/lab/o3/ozone/status", "high")
    fire_raw(hass, "inspextor/nobody/M/status", "1")
    failing = asyncio.create_task(
        hass.services.async_call(
            DOMAIN,
            "send_command",
            {"entity_id": "light.kitchen_light", "capability": "brightness", "value": 9},
            blocking=True,
        )
    )
    for count in (1, 2, 3):
        await next_command(mqtt_mock, "kitchen/1", "M", count)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3.1))
    with pytest.raises(HomeAssistantError):
        await failing
    pending = asyncio.create_task(
        hass.services.async_call(
            DOMAIN,
            "send_command",
            {"entity_id": "cover.bedroom_shade", "capability": "position", "value": 70},
            blocking=True,
        )
    )
    await next_command(mqtt_mock, "bedroom/shade", "position")
    pending.cancel()


async def test_entry_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    snapshot: SnapshotAssertion,
) -> None:
    """The site's counters: malformed per device, pending, resends, failures."""
    await _make_history(hass, mqtt_mock)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    counters = diagnostics["site"]["counters"]
    assert counters["failures"] == 1
    assert counters["resends"] == 2
    assert counters["pending_commands"] == 1
    assert counters["malformed"] == 2
    assert diagnostics["entry"]["options"]["site_map"] == "**REDACTED**"
    assert diagnostics == snapshot(
        exclude=lambda prop, path: prop in ("asks_sent", "resyncs_confirmed")
    )


async def test_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A device's own state; the hub device shows the site."""
    await _make_history(hass, mqtt_mock)
    kitchen = find_device(hass, "inspextor:kitchen/1")
    assert kitchen is not None
    diagnostics = await get_diagnostics_for_device(hass, hass_client, init_integration, kitchen)
    assert diagnostics == snapshot
    assert diagnostics["malformed"] == 1
    assert diagnostics["name"] == "**REDACTED**"
    hub = find_device(hass, "inspextor")
    assert hub is not None
    site = await get_diagnostics_for_device(hass, hass_client, init_integration, hub)
    assert site["counters"]["failures"] == 1
    assert site["devices"][0]["path"] == "bedroom/shade"
    assert site["devices"][0]["pending"] == {"position": 70}
