"""End to end on a real Mosquitto: HA's own MQTT client, a paho device, a broker restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import json
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.components import mqtt
from homeassistant.components.light import ATTR_BRIGHTNESS, DOMAIN as LIGHT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, CONF_PORT, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_ENTRY_TYPE,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DOMAIN,
)
from tests.helpers.mosquitto import Broker, mosquitto_path, start_broker
from tests.helpers.polling import wait_for

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed")

BASE = "e2e"
PATH = "b5ea3f/42"
LIGHT = "light.kitchen_light"


class PahoLight:
    """A dimmable light on its own paho client: confirms commands, answers asks."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.brightness = 50
        self.asks = 0
        self.commands: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="paho-light")
        self.client.will_set(f"{BASE}/{PATH}/availability", "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=0.05, max_delay=0.2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe(
            [(f"{BASE}/{PATH}/+/command", 1), (f"{BASE}/ask", 1), (f"{BASE}/{PATH}/ask", 1)]
        )
        client.publish(f"{BASE}/{PATH}/availability", "online", qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, *_: Any) -> None:
        self.connected.clear()

    def _status(self, cid: str | None = None) -> None:
        payload: dict[str, Any] = {"value": self.brightness}
        if cid:
            payload["cid"] = cid
        self.client.publish(f"{BASE}/{PATH}/M/status", json.dumps(payload), qos=1)

    def _on_message(self, client: paho.Client, _: Any, msg: paho.MQTTMessage) -> None:
        data = json.loads(msg.payload)
        if msg.topic in (f"{BASE}/ask", f"{BASE}/{PATH}/ask"):
            self.asks += 1
            client.publish(f"{BASE}/{PATH}/availability", "online", qos=1, retain=True)
            self._status()
            return
        assert not msg.retain  # commands are never retained
        self.commands.append({**data, "qos": msg.qos})
        self.brightness = data["value"]
        self._status(data["cid"])


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """A Mosquitto of this test only."""
    running = start_broker()
    yield running
    running.stop()


@pytest.fixture
def device(broker: Broker) -> Iterator[PahoLight]:
    """The paho device, connected before HA."""
    light = PahoLight(broker.port)
    light.start()
    assert light.connected.wait(5)
    yield light
    light.stop()


@pytest.fixture
async def real_mqtt(
    hass: HomeAssistant, broker: Broker, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """HA's MQTT integration with its real client, on the test's broker."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={mqtt.CONF_BROKER: broker.host, CONF_PORT: broker.port},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    # Reconnect within a second after the broker restart instead of HA's 10 s.
    with patch("homeassistant.components.mqtt.client.RECONNECT_INTERVAL_SECONDS", 0.5):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await wait_for(lambda: mqtt.is_connected(hass), timeout=10)
        yield entry
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def _light(hass: HomeAssistant) -> tuple[str, Any, Any]:
    state = hass.states.get(LIGHT)
    assert state is not None
    return state.state, state.attributes.get(ATTR_BRIGHTNESS), state.attributes.get("pending")


async def test_command_and_resync_on_real_broker(
    hass: HomeAssistant, broker: Broker, device: PahoLight, real_mqtt: MockConfigEntry
) -> None:
    """Ask on setup, a confirmed command end to end, and a resync after a broker restart."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=BASE,
        data={CONF_ENTRY_TYPE: "site", CONF_BASE_TOPIC: BASE},
        options={
            CONF_SITE_MAP: f"devices:\n  {PATH}: {{name: Kitchen light, kind: light}}\n"
            "subtopics: {M: brightness}\n",
            CONF_COMMAND_TIMEOUT: 2.0,
            CONF_RETRIES: 2,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    site = entry.runtime_data

    # The setup ask is answered: no unknown state.
    await wait_for(lambda: site.reported(PATH, "brightness") == 50, timeout=10)
    assert await _light(hass) == ("on", 50, False)
    assert site.resyncs_confirmed >= 1

    # A command goes out (QoS 1, not retained) and returns on the device's echo.
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: LIGHT, ATTR_BRIGHTNESS: 200}, blocking=True
    )
    assert await _light(hass) == ("on", 200, False)
    assert device.commands[-1]["value"] == 200
    assert device.commands[-1]["qos"] == 1
    assert len(device.commands[-1]["cid"]) == 32
    assert site.commands.stats.failures == 0

    # The broker restarts; meanwhile the light is dimmed at the wall.
    asks_before, resyncs_before = device.asks, site.resyncs_confirmed
    await hass.async_add_executor_job(broker.stop)
    await wait_for(lambda: not mqtt.is_connected(hass), timeout=10)
    device.brightness = 10
    await hass.async_add_executor_job(broker.restart)
    await wait_for(lambda: mqtt.is_connected(hass), timeout=15)
    await wait_for(lambda: site.resyncs_confirmed > resyncs_before, timeout=15)
    await wait_for(lambda: site.reported(PATH, "brightness") == 10, timeout=10)
    assert device.asks > asks_before
    assert await _light(hass) == ("on", 10, False)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
