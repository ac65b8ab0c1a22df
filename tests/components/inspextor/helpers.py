"""Helpers: play a device on HA's MQTT dispatch and watch what the integration publishes."""

from __future__ import annotations

from collections.abc import Callable
import json
from typing import Any

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor.const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_ENTRY_TYPE,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DOMAIN,
    ENTRY_TYPE_SITE,
)
from tests.helpers.polling import wait_for

BASE = "inspextor"

# The test site: one device of every kind.
SITE_MAP = """
subtopics:
  M: brightness
devices:
  kitchen/1:
    name: Kitchen light
    kind: light
    area: Kitchen
  living/2:
    name: Living strip
    kind: rgbw_light
    subtopics:
      C: color
  bedroom/shade:
    name: Bedroom shade
    kind: shade
  hall/pir:
    name: Hall motion
    kind: motion
  garden/steinel:
    name: Garden
    kind: steinel
  lab/o3:
    name: Lab ozone
    kind: ozone
"""


def site_entry(site_map: str) -> MockConfigEntry:
    """A site entry on base topic `inspextor` with this site map."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id="inspextor",
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_SITE, CONF_BASE_TOPIC: BASE},
        options={CONF_SITE_MAP: site_map, CONF_COMMAND_TIMEOUT: 3.0, CONF_RETRIES: 2},
    )


def fire_status(
    hass: HomeAssistant, path: str, subtopic: str, value: Any, cid: str | None = None
) -> None:
    """A device reports a capability (with the command id when confirming)."""
    payload: dict[str, Any] = {"value": value}
    if cid is not None:
        payload["cid"] = cid
    async_fire_mqtt_message(hass, f"{BASE}/{path}/{subtopic}/status", json.dumps(payload))


def fire_raw(hass: HomeAssistant, topic: str, payload: bytes | str) -> None:
    """Any message on the site's broker."""
    async_fire_mqtt_message(hass, topic, payload)


def fire_availability(
    hass: HomeAssistant, path: str, online: bool, *, retain: bool = False
) -> None:
    """The availability topic (or the device's last will).

    Retained copies only arrive right after subscribing; later changes are live
    (HA's MQTT client hands a retained topic to a subscription once).
    """
    async_fire_mqtt_message(
        hass, f"{BASE}/{path}/availability", "online" if online else "offline", retain=retain
    )


def published(mqtt_mock: MqttMockHAClient, topic: str) -> list[tuple[dict[str, Any], int, bool]]:
    """(payload, qos, retain) of everything the integration published on `topic`."""
    return [
        (json.loads(call.args[1]), call.args[2], call.args[3])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == topic
    ]


async def next_command(
    mqtt_mock: MqttMockHAClient, path: str, subtopic: str, count: int = 1
) -> dict[str, Any]:
    """Wait for the `count`-th command on a capability and return its payload."""
    topic = f"{BASE}/{path}/{subtopic}/command"
    commands = await wait_for(lambda: len(published(mqtt_mock, topic)) >= count or None)
    assert commands
    return published(mqtt_mock, topic)[count - 1][0]


class FakeDevices:
    """Devices that confirm every command at once with the commanded value.

    Subscribes through HA's MQTT integration like any other client of the broker.
    `silent` paths never answer; `values` maps (path, subtopic) to the value echoed
    instead of the commanded one (a shade echoes its current position). `states` is
    what each device reports when HA asks (`<base>/ask`): online plus every status.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.silent: set[str] = set()
        self.values: dict[tuple[str, str], Any] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.received: list[tuple[str, str, dict[str, Any]]] = []
        self.asks = 0

    async def start(self) -> Callable[[], None]:
        """Start answering."""
        return await mqtt.async_subscribe(self.hass, f"{BASE}/#", self._on_message)

    @callback
    def _on_message(self, msg: mqtt.ReceiveMessage) -> None:
        levels = str(msg.topic).split("/")
        if msg.topic == f"{BASE}/ask":
            self.asks += 1
            self.hass.loop.call_soon(self._answer_ask)
            return
        if levels[-1] != "command":
            return
        path, subtopic = "/".join(levels[1:-2]), levels[-2]
        payload = json.loads(msg.payload)
        self.received.append((path, subtopic, payload))
        if path in self.silent:
            return
        value = self.values.get((path, subtopic), payload["value"])
        self.hass.loop.call_soon(fire_status, self.hass, path, subtopic, value, payload["cid"])

    @callback
    def _answer_ask(self) -> None:
        for path, statuses in self.states.items():
            if path in self.silent:
                continue
            fire_availability(self.hass, path, True)
            for subtopic, value in statuses.items():
                fire_status(self.hass, path, subtopic, value)


def find_device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry | None:
    """The InspeXtor device with `identifier`, looked up through its config entries.

    `DeviceRegistry.async_get_device` is deprecated in HA 2026 (and raises when a test
    calls it); walking the entries' devices works on both versions.
    """
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, identifier) in device.identifiers:
                return device
    return None
