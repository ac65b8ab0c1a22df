"""Resync: `<base>/ask` on setup and after every reconnect, until it is heard back."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from homeassistant.components.mqtt import MQTT_CONNECTION_STATE
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient, MqttMockPahoClient

from custom_components.inspextor.const import ASK_RETRY_DELAYS

from .helpers import FakeDevices, published

ALL_STATES: dict[str, dict[str, Any]] = {
    "kitchen/1": {"M": 128},
    "living/2": {"M": 0, "C": [0, 0, 0, 255]},
    "bedroom/shade": {"position": 30, "motion": "stopped"},
    "hall/pir": {"motion": False},
    "garden/steinel": {"illuminance": 300, "temperature": 18.5, "humidity": 60, "motion": True},
    "lab/o3": {"ozone": 40.2},
}


def _asks(mqtt_mock: MqttMockHAClient) -> list[dict[str, Any]]:
    return [payload for payload, _, retain in published(mqtt_mock, "inspextor/ask") if not retain]


async def test_ask_on_setup(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """The site asks on setup (and on the client's connect); hearing it back ends retries."""
    asks = _asks(mqtt_mock)
    assert asks
    assert all(len(ask["cid"]) == 32 for ask in asks)
    site = init_integration.runtime_data
    assert site.resyncs_confirmed == len(asks)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=60))
    await hass.async_block_till_done()
    # No retries: every ask sent (HA's client may report another connect) was heard.
    assert site.asks_sent == site.resyncs_confirmed == len(_asks(mqtt_mock))


async def test_reconnect_resyncs_every_entity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    entity_registry: er.EntityRegistry,
) -> None:
    """After a broker reconnect every entity of an answering device has a state."""
    devices = FakeDevices(hass)
    devices.states = ALL_STATES
    await devices.start()
    entity_ids = [
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    ]
    assert all(hass.states.get(e).state == STATE_UNKNOWN for e in entity_ids)  # type: ignore[union-attr]
    before = len(_asks(mqtt_mock))
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done()
    assert len(_asks(mqtt_mock)) == before + 1
    assert devices.asks == 1
    states = {e: hass.states.get(e).state for e in entity_ids}  # type: ignore[union-attr]
    assert STATE_UNKNOWN not in states.values(), states
    assert states["cover.bedroom_shade"] == "open"
    assert states["sensor.lab_ozone"] == "40.2"


async def test_ask_repeated_until_heard(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An ask sent before the broker has our subscription is lost: ask again, back off."""
    deliver = mqtt_client_mock.publish.side_effect
    lost: list[str] = []

    # HA 2026's client also passes MQTT v5 properties: hand on whatever else it gives.
    def broker(topic: str, payload: Any, *args: Any) -> Any:
        if topic == "inspextor/ask" and len(lost) < 2:
            lost.append(payload)
            return deliver("elsewhere/ask", payload, *args)  # nobody hears it
        return deliver(topic, payload, *args)

    mqtt_client_mock.publish.side_effect = broker
    site = init_integration.runtime_data
    before, confirmed = len(_asks(mqtt_mock)), site.resyncs_confirmed
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done()
    assert len(_asks(mqtt_mock)) == before + 1
    for delay in ASK_RETRY_DELAYS[:2]:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=delay + 0.1))
        await hass.async_block_till_done()
    assert len(_asks(mqtt_mock)) == before + 3  # lost, lost, heard
    assert site.resyncs_confirmed == confirmed + 1
    # A disconnect stops asking.
    lost.clear()
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, False)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=120))
    await hass.async_block_till_done()
    assert len(_asks(mqtt_mock)) == before + 4


async def test_ask_gives_up_with_warning(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    mqtt_client_mock: MqttMockPahoClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """If the ask never comes back, the site says so instead of asking forever."""
    deliver = mqtt_client_mock.publish.side_effect

    def broker(topic: str, payload: Any, *args: Any) -> Any:  # 2026 adds properties
        return deliver("elsewhere/ask" if topic == "inspextor/ask" else topic, payload, *args)

    mqtt_client_mock.publish.side_effect = broker
    caplog.set_level(logging.WARNING)
    before = len(_asks(mqtt_mock))
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done()
    for delay in ASK_RETRY_DELAYS:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=delay + 0.1))
        await hass.async_block_till_done()
    assert len(_asks(mqtt_mock)) == before + 1 + len(ASK_RETRY_DELAYS)
    assert "resync request never came back" in caplog.text


async def test_ask_while_broker_gone_does_not_raise(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A failed ask publish is retried by the ask timer, never an unhandled error."""
    from homeassistant.exceptions import HomeAssistantError

    site = init_integration.runtime_data
    confirmed = site.resyncs_confirmed
    mqtt_mock.async_publish.side_effect = HomeAssistantError("not connected")
    async_dispatcher_send(hass, MQTT_CONNECTION_STATE, True)
    await hass.async_block_till_done()
    mqtt_mock.async_publish.side_effect = None
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=ASK_RETRY_DELAYS[0] + 0.1))
    await hass.async_block_till_done()
    assert site.resyncs_confirmed == confirmed + 1
