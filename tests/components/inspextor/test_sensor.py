"""Sensors: Steinel illuminance, temperature, humidity; ozone in µg/m³."""

from __future__ import annotations

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.compat import MICROGRAMS_PER_CUBIC_METER

from .helpers import fire_availability, fire_raw, fire_status
from .snapshot_helpers import SnapshotPlatform


@pytest.mark.parametrize(
    ("entity_id", "path", "subtopic", "payload", "state", "unit", "device_class"),
    [
        (
            "sensor.garden_illuminance",
            "garden/steinel",
            "illuminance",
            "1200",
            "1200",
            "lx",
            "illuminance",
        ),
        (
            "sensor.garden_temperature",
            "garden/steinel",
            "temperature",
            '{"value": 21.5}',
            "21.5",
            "°C",
            "temperature",
        ),
        ("sensor.garden_humidity", "garden/steinel", "humidity", "55", "55", "%", "humidity"),
        (
            "sensor.lab_ozone",
            "lab/o3",
            "ozone",
            "61.2",
            "61.2",
            MICROGRAMS_PER_CUBIC_METER,
            "ozone",
        ),
    ],
)
async def test_sensor_values(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_id: str,
    path: str,
    subtopic: str,
    payload: str,
    state: str,
    unit: str,
    device_class: str,
) -> None:
    """Each measurement has its unit and device class; bare numbers are wrapped."""
    current = hass.states.get(entity_id)
    assert current is not None
    assert current.state == STATE_UNKNOWN
    fire_raw(hass, f"inspextor/{path}/{subtopic}/status", payload)
    current = hass.states.get(entity_id)
    assert current is not None
    assert current.state == state
    assert current.attributes[ATTR_UNIT_OF_MEASUREMENT] == unit
    assert current.attributes[ATTR_DEVICE_CLASS] == device_class
    assert current.attributes["state_class"] == "measurement"


async def test_sensor_ignores_wrong_type(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A text temperature is malformed; the last good value stays."""
    fire_status(hass, "garden/steinel", "temperature", 19)
    fire_status(hass, "garden/steinel", "temperature", "warm")
    state = hass.states.get("sensor.garden_temperature")
    assert state is not None
    assert state.state == "19"


async def test_a_reading_rewrites_only_its_own_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The multisensor's temperature does not rewrite its humidity, lux and motion
    (each needless write is a state_reported event and a recorder check)."""
    fire_status(hass, "garden/steinel", "humidity", 55)
    others = ("sensor.garden_humidity", "sensor.garden_illuminance")
    before = {e: hass.states.get(e).last_reported for e in others}
    changed: list[str] = []
    hass.bus.async_listen("state_changed", lambda event: changed.append(event.data["entity_id"]))
    fire_status(hass, "garden/steinel", "temperature", 20)
    fire_status(hass, "garden/steinel", "temperature", 20)  # the same value again
    await hass.async_block_till_done()
    assert changed == ["sensor.garden_temperature"]
    # an unchanged write would still move last_reported (and fire state_reported)
    assert {e: hass.states.get(e).last_reported for e in others} == before
    fire_availability(hass, "garden/steinel", False)  # availability still reaches all
    await hass.async_block_till_done()
    assert hass.states.get("sensor.garden_humidity").state == "unavailable"


async def test_all_entities(snapshot_site: SnapshotPlatform) -> None:
    """Every sensor of a site with every kind: registry entry, state, device.

    Version-independent as snapshot_helpers.py says: no areas, shared fields only.
    """
    await snapshot_site(Platform.SENSOR)
