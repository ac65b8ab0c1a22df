"""The bridge's device follows the bridge: status → entity states, unreachable → unavailable."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.inspextor import async_remove_config_entry_device
from custom_components.inspextor.const import DOMAIN

from .bridge_helpers import BRIDGE_ID, FakeBridge, bridge_entry
from .helpers import find_device
from .snapshot_helpers import snapshot_entities

CONNECTED = "binary_sensor.inspextor_cloud_bridge_cloud_connected"
ACTIVATION = "sensor.inspextor_cloud_bridge_activation_state"
EXPIRES = "sensor.inspextor_cloud_bridge_subscription_expires"
RTT = "sensor.inspextor_cloud_bridge_last_ping_round_trip"
OUTBOX_HIGH = "sensor.inspextor_cloud_bridge_queued_state_changes"
OUTBOX_LOW = "sensor.inspextor_cloud_bridge_queued_sensor_readings"
OUTBOX_STRUCTURE = "sensor.inspextor_cloud_bridge_queued_device_and_area_changes"
DROPPED = "sensor.inspextor_cloud_bridge_readings_dropped_while_offline"
LAST_ERROR = "sensor.inspextor_cloud_bridge_last_error"
UNITS = {
    OUTBOX_STRUCTURE: "changes",
    OUTBOX_HIGH: "changes",
    OUTBOX_LOW: "readings",
    DROPPED: "readings",
}


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the 15 s polling interval pass."""
    freezer.tick(timedelta(seconds=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_device_and_entities(hass: HomeAssistant, init_bridge: MockConfigEntry) -> None:
    """One device named after the bridge; its status as states."""
    device = find_device(hass, BRIDGE_ID)
    assert device is not None
    assert device.name == "InspeXtor cloud bridge"
    assert device.sw_version == "0.3.0"
    assert device.manufacturer == "InspeXtor"
    assert _state(hass, CONNECTED) == STATE_ON
    assert hass.states.get(CONNECTED).attributes["device_class"] == "connectivity"
    assert _state(hass, ACTIVATION) == "activated"
    assert hass.states.get(ACTIVATION).attributes["options"] == [
        "never",
        "activated",
        "deregistered",
        "failed",
    ]
    assert _state(hass, EXPIRES) == "2030-12-31T00:00:00+00:00"
    assert _state(hass, RTT) == "42.5"
    assert hass.states.get(RTT).attributes["unit_of_measurement"] == "ms"
    assert _state(hass, OUTBOX_STRUCTURE) == "0"
    assert _state(hass, OUTBOX_HIGH) == "1"
    assert _state(hass, OUTBOX_LOW) == "7"
    assert _state(hass, DROPPED) == "3"
    # In a user's words and units, and no "Unknown" when there is no error.
    units = {eid: hass.states.get(eid).attributes.get("unit_of_measurement") for eid in UNITS}
    assert units == UNITS
    assert _state(hass, LAST_ERROR) == "No error"
    entities = er.async_get(hass)
    for entity_id in (OUTBOX_HIGH, OUTBOX_LOW, OUTBOX_STRUCTURE, DROPPED, LAST_ERROR):
        entry = entities.async_get(entity_id)
        assert entry is not None
        assert entry.entity_category is er.EntityCategory.DIAGNOSTIC, entity_id
        assert entry.device_id == device.id
    assert entities.async_get(CONNECTED).unique_id == f"{BRIDGE_ID}:cloud_connected"


async def test_entities_follow_the_status(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The bridge loses the cloud, fails an activation, reports an error, is upgraded."""
    bridge.status["cloud_connected"] = False
    bridge.status["activation"] = {"state": "failed", "last_attempt": 1.0, "reason": "expired"}
    bridge.status["ping"] = {"last_rtt_ms": None, "last_success": None}
    bridge.status["outbox"] = {"structure": 1, "high": 12, "low": 250, "dropped_low": 9}
    bridge.status["version"] = "0.4.0"
    bridge.status["last_error"] = {
        "code": "tls_handshake",
        "reason": "the cloud refused the certificate",
        "at": 1_790_000_000.0,
        "part": "cloud",
    }
    bridge.status["errors"] = {
        "cloud": bridge.status["last_error"],
        "ha": {"code": "ha_cannot_connect", "reason": "Home Assistant: away", "at": 1.0},
        "storage": None,
        "activation": None,
        "store_channel": {
            "code": "store_refused",
            "reason": "store channel: the store refused our credentials (HTTP 403 AccessDenied)",
            "at": 1.0,
        },
    }
    await _poll(hass, freezer)
    assert _state(hass, CONNECTED) == STATE_OFF
    assert _state(hass, ACTIVATION) == "failed"
    assert _state(hass, RTT) == STATE_UNKNOWN
    assert _state(hass, OUTBOX_HIGH) == "12"
    assert _state(hass, OUTBOX_LOW) == "250"
    assert _state(hass, DROPPED) == "9"
    error = hass.states.get(LAST_ERROR)
    assert error.state == "the cloud refused the certificate"
    device = find_device(hass, BRIDGE_ID)
    assert device is not None
    assert device.sw_version == "0.4.0"  # the add-on was upgraded
    assert error.attributes["code"] == "tls_handshake"
    assert error.attributes["at"] == "2026-09-21T14:13:20+00:00"
    # every failing part is shown, not only the most severe
    assert error.attributes["part"] == "cloud"
    assert error.attributes["cloud_error"] == "the cloud refused the certificate"
    assert error.attributes["ha_error"] == "Home Assistant: away"
    assert error.attributes["storage_error"] is None
    assert error.attributes["store_channel_error"] == (
        "store channel: the store refused our credentials (HTTP 403 AccessDenied)"
    )


async def test_odd_values_are_unknown(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A newer bridge's unknown activation state or a broken date do not break the entity."""
    bridge.status["activation"] = {"state": "suspended_by_martians"}
    bridge.status["subscription"] = {"state": "active", "expires": "soon"}
    bridge.status["cloud_connected"] = "yes"
    bridge.status["last_error"] = {"code": "x", "reason": "r" * 300, "at": None}
    await _poll(hass, freezer)
    assert _state(hass, ACTIVATION) == STATE_UNKNOWN
    assert _state(hass, EXPIRES) == STATE_UNKNOWN
    assert _state(hass, CONNECTED) == STATE_UNKNOWN
    assert _state(hass, LAST_ERROR) == "r" * 255
    assert hass.states.get(LAST_ERROR).attributes["at"] is None


async def test_unreachable_bridge_makes_entities_unavailable_then_back(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The add-on stops: every bridge entity is unavailable until it answers again."""
    bridge.reachable = False
    await _poll(hass, freezer)
    for entity_id in (CONNECTED, ACTIVATION, RTT, OUTBOX_LOW, LAST_ERROR):
        assert _state(hass, entity_id) == STATE_UNAVAILABLE, entity_id
    assert _state(hass, "button.inspextor_cloud_bridge_activate") == STATE_UNAVAILABLE
    bridge.reachable = True
    await _poll(hass, freezer)
    assert _state(hass, CONNECTED) == STATE_ON
    assert _state(hass, ACTIVATION) == "activated"


async def test_setup_retries_while_the_bridge_is_down(
    hass: HomeAssistant, bridge: FakeBridge, freezer: FrozenDateTimeFactory
) -> None:
    """No bridge at setup: retry later; the exposure is pushed once it answers."""
    bridge.reachable = False
    entry = bridge_entry(exposed=["light.kitchen_light"])
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert bridge.puts() == []
    bridge.reachable = True
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert bridge.puts() == [{"entities": ["light.kitchen_light"]}]


async def test_setup_pushes_the_chosen_exposure(hass: HomeAssistant, bridge: FakeBridge) -> None:
    """HA is the source of truth: setup replaces the bridge's allow-list with the options."""
    bridge.exposure = ["lock.front_door"]  # left over on the bridge
    entry = bridge_entry(exposed=["light.kitchen_light", "cover.bedroom_shade"])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert bridge.exposure == ["light.kitchen_light", "cover.bedroom_shade"]


async def test_a_bridge_that_lost_its_exposure_gets_it_back(
    hass: HomeAssistant,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The add-on's data restored from an older backup: the next poll puts HA's list back."""
    entry = bridge_entry(exposed=["light.kitchen_light"])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await _poll(hass, freezer)
    assert len(bridge.puts()) == 1  # in step: nothing to put back
    bridge.exposure = ["light.kitchen_light", "lock.front_door"]  # an old allow-list
    await _poll(hass, freezer)
    assert bridge.exposure == ["light.kitchen_light"]
    assert len(bridge.puts()) == 2
    assert "differed from the 1 chosen in Home Assistant" in caplog.text
    bridge.exposure_status = 500  # a bridge that cannot answer: the status still counts
    await _poll(hass, freezer)
    assert _state(hass, CONNECTED) == STATE_ON


async def test_setup_retries_when_the_exposure_is_refused(
    hass: HomeAssistant, bridge: FakeBridge
) -> None:
    """The bridge cannot store the allow-list: the entry is not set up half-agreed."""
    bridge.exposure_status = 500
    entry = bridge_entry(exposed=["light.kitchen_light"])
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "the disk is full" in str(entry.reason)


async def test_unload_and_remove(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """Unloading makes the entities unavailable and stops polling."""
    assert await hass.config_entries.async_unload(init_bridge.entry_id)
    await hass.async_block_till_done()
    assert init_bridge.state is ConfigEntryState.NOT_LOADED
    assert _state(hass, CONNECTED) == STATE_UNAVAILABLE


async def test_bridge_device_cannot_be_removed(
    hass: HomeAssistant, init_bridge: MockConfigEntry
) -> None:
    """The bridge's device lives as long as its entry."""
    device = find_device(hass, BRIDGE_ID)
    assert device is not None
    assert not await async_remove_config_entry_device(hass, init_bridge, device)


async def test_unknown_entry_type_is_an_error(hass: HomeAssistant) -> None:
    """An entry of a kind this version does not know fails with a clear error."""
    entry = MockConfigEntry(domain=DOMAIN, data={"entry_type": "toaster"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


async def test_send_command_refuses_bridge_entities(
    hass: HomeAssistant, init_bridge: MockConfigEntry
) -> None:
    """inspextor.send_command writes to devices of a site, never to the bridge."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "send_command",
            {"entity_id": CONNECTED, "capability": "brightness", "value": 1},
            blocking=True,
        )
    assert err.value.translation_key == "unknown_target"


@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR])
async def test_all_entities(
    hass: HomeAssistant,
    bridge: FakeBridge,
    mock_bridge_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
    platform: Platform,
) -> None:
    """Every entity of the bridge on one platform: registry entry, state, device.

    Version-independent as snapshot_helpers.py says (the bridge's device has no area).
    """
    await snapshot_entities(hass, mock_bridge_entry, snapshot, monkeypatch, platform)
