"""Motion: plain motion sensors and the Steinel multisensor."""

from __future__ import annotations

from homeassistant.const import ATTR_DEVICE_CLASS, STATE_OFF, STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .helpers import fire_raw, fire_status
from .snapshot_helpers import SnapshotPlatform


async def test_motion(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Booleans turn the sensors on and off; a plain motion sensor takes the device name."""
    for entity_id, path in (
        ("binary_sensor.hall_motion", "hall/pir"),
        ("binary_sensor.garden_motion", "garden/steinel"),
    ):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_UNKNOWN
        assert state.attributes[ATTR_DEVICE_CLASS] == "motion"
        assert "pending" not in state.attributes
        fire_status(hass, path, "motion", True)
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_ON
        fire_raw(hass, f"inspextor/{path}/motion/status", "false")  # bare JSON is wrapped
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_OFF
    hall = hass.states.get("binary_sensor.hall_motion")
    assert hall is not None
    assert hall.name == "Hall motion"


async def test_motion_rejects_text(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """`ON` is wrapped as a string, which is the wrong type for motion: malformed."""
    fire_raw(hass, "inspextor/hall/pir/motion/status", "ON")
    state = hass.states.get("binary_sensor.hall_motion")
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert init_integration.runtime_data.states["hall/pir"].malformed == 1


async def test_all_entities(snapshot_site: SnapshotPlatform) -> None:
    """Every binary sensor of a site with every kind: registry entry, state, device.

    Version-independent as snapshot_helpers.py says: no areas, shared fields only.
    """
    await snapshot_site(Platform.BINARY_SENSOR)
