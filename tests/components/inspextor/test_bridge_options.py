"""The bridge's options: what the cloud may control, and deregistration behind a confirmation."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.const import CONF_EXPOSED_ENTITIES

from .bridge_helpers import FakeBridge, bridge_entry

CHOSEN = ["light.kitchen_light", "cover.bedroom_shade"]


@pytest.fixture(autouse=True)
def controllable(hass: HomeAssistant) -> None:
    """The entities the picker offers: they exist in HA."""
    hass.states.async_set("light.kitchen_light", "on", {"friendly_name": "Kitchen light"})
    hass.states.async_set("cover.bedroom_shade", "open", {"friendly_name": "Bedroom shade"})


async def _menu(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["exposure", "deregister"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return dict(result)


async def test_exposure_puts_exactly_the_chosen_entities(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """None by default; saving PUTs the chosen list and keeps it in the options."""
    form = await _menu(hass, init_bridge, "exposure")
    schema = form["data_schema"].schema
    assert next(key for key in schema if key == CONF_EXPOSED_ENTITIES).default() == []
    puts_before = len(bridge.puts())
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {CONF_EXPOSED_ENTITIES: CHOSEN}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert bridge.puts()[puts_before:] == [{"entities": CHOSEN}]
    assert bridge.exposure == CHOSEN
    assert init_bridge.options[CONF_EXPOSED_ENTITIES] == CHOSEN


async def test_exposure_can_be_emptied(hass: HomeAssistant, bridge: FakeBridge) -> None:
    """Choosing nothing takes every entity away from the cloud."""
    entry = bridge_entry(exposed=CHOSEN)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    form = await _menu(hass, entry, "exposure")
    result = await hass.config_entries.options.async_configure(form["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert bridge.puts()[-1] == {"entities": []}
    assert entry.options[CONF_EXPOSED_ENTITIES] == []


async def test_exposure_refused_is_a_form_error(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """The bridge could not store it: the form says so and the options stay as they were."""
    form = await _menu(hass, init_bridge, "exposure")
    bridge.reachable = False
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {CONF_EXPOSED_ENTITIES: CHOSEN}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert init_bridge.options[CONF_EXPOSED_ENTITIES] == []
    bridge.reachable = True
    bridge.exposure_status = 500
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {CONF_EXPOSED_ENTITIES: CHOSEN}
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_deregister_needs_the_box_checked(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """Unchecked: an error and nothing posted. Checked: POST, then the outcome."""
    form = await _menu(hass, init_bridge, "deregister")
    result = await hass.config_entries.options.async_configure(form["flow_id"], {"confirm": False})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"confirm": "confirm_required"}
    assert bridge.posts("deregister") == 0
    bridge.status["activation"] = {"state": "deregistered"}
    result = await hass.config_entries.options.async_configure(form["flow_id"], {"confirm": True})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "deregistered"
    assert bridge.posts("deregister") == 1
    state = hass.states.get("sensor.inspextor_cloud_bridge_activation_state")
    assert state.state == "deregistered"


async def test_deregister_failure_shows_the_reason(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """The cloud refused: the outcome names the bridge's reason."""
    bridge.outcomes["deregister"] = (
        200,
        {"action": "deregister", "success": False, "reason": "gave up after 3 attempts"},
    )
    form = await _menu(hass, init_bridge, "deregister")
    result = await hass.config_entries.options.async_configure(form["flow_id"], {"confirm": True})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "deregister_failed"
    assert result["description_placeholders"] == {"reason": "gave up after 3 attempts"}


async def test_options_need_a_loaded_bridge(
    hass: HomeAssistant, init_bridge: MockConfigEntry
) -> None:
    """Nothing to talk to while the entry is not loaded."""
    form = await _menu(hass, init_bridge, "exposure")
    other = await _menu(hass, init_bridge, "deregister")
    await hass.config_entries.async_unload(init_bridge.entry_id)
    result = await hass.config_entries.options.async_init(init_bridge.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "bridge_not_loaded"
    for flow, user_input in ((form, {CONF_EXPOSED_ENTITIES: CHOSEN}), (other, {"confirm": True})):
        result = await hass.config_entries.options.async_configure(flow["flow_id"], user_input)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "bridge_not_loaded"


async def test_a_poll_during_the_save_does_not_put_the_old_list_back(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """Between the flow's PUT and the options being saved, a poll sees the bridge's new
    list and the old options: it must keep the new list (an entity just taken away from
    the cloud must not come back, not even for one poll)."""
    coordinator = init_bridge.runtime_data
    form = await _menu(hass, init_bridge, "exposure")
    bridge.reachable = False  # the PUT fails: nothing is pending afterwards
    await hass.config_entries.options.async_configure(
        form["flow_id"], {CONF_EXPOSED_ENTITIES: CHOSEN}
    )
    assert coordinator.chosen_exposure is None
    bridge.reachable = True
    # the moment in between, as the flow leaves it: PUT done, options not saved yet
    coordinator.chosen_exposure = CHOSEN
    bridge.exposure = list(CHOSEN)
    puts = len(bridge.puts())
    await coordinator.async_refresh()
    assert bridge.exposure == CHOSEN
    assert len(bridge.puts()) == puts
    # once the options are saved, they are the reference again
    hass.config_entries.async_update_entry(
        init_bridge, options={**init_bridge.options, CONF_EXPOSED_ENTITIES: CHOSEN}
    )
    await coordinator.async_refresh()
    assert coordinator.chosen_exposure is None
    assert len(bridge.puts()) == puts
