"""Announced devices unavailable for 7 days or more: a repair names them, removes or keeps."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.stale_devices import stale_issue_id

from .helpers import fire_availability, fire_raw

PORCH = "sensor.porch_temperature"


@pytest.fixture(autouse=True)
async def repairs(hass: HomeAssistant) -> None:
    """HA's repairs integration (the frontend loads it)."""
    assert await async_setup_component(hass, "repairs", {})


async def _pass(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, stale_issue_id(entry.entry_id))


@pytest.fixture
async def porch_gone(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> MockConfigEntry:
    """The test site, whose announced Porch sensor just went offline."""
    await _porch_goes_away(hass)
    return init_integration


async def _porch_goes_away(hass: HomeAssistant) -> None:
    fire_raw(hass, "inspextor/porch/s/announce", json.dumps({"name": "Porch", "kind": "steinel"}))
    fire_availability(hass, "porch/s", True)
    await hass.async_block_till_done()
    fire_availability(hass, "porch/s", False)
    fire_availability(hass, "hall/pir", False)  # in the site map: never "stale"
    await hass.async_block_till_done()


async def _fix(hass: HomeAssistant, entry: MockConfigEntry, choice: str) -> dict[str, Any]:
    """Open the issue's fix flow as the Repairs page does and choose."""
    manager = repairs_flow_manager(hass)
    assert manager is not None
    menu = await manager.async_init(DOMAIN, data={"issue_id": stale_issue_id(entry.entry_id)})
    assert menu["type"] is FlowResultType.MENU
    assert menu["menu_options"] == ["remove", "keep"]
    done = await manager.async_configure(menu["flow_id"], {"next_step_id": choice})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return dict(menu)


async def test_a_week_gone_raises_a_repair_naming_the_device(
    hass: HomeAssistant, porch_gone: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Nothing after 6 days; after 7 the issue names Porch and the site, not the hall sensor."""
    init_integration = porch_gone
    await _pass(hass, freezer, timedelta(days=6))
    assert _issue(hass, init_integration) is None
    await _pass(hass, freezer, timedelta(days=1, hours=1))
    issue = _issue(hass, init_integration)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders["site"] == "Home"
    assert issue.translation_placeholders["count"] == "1"
    assert issue.translation_placeholders["devices"].startswith("Porch (porch/s, unavailable since")
    # Back online: the issue goes away on its own.
    fire_availability(hass, "porch/s", True)
    await hass.async_block_till_done()
    assert _issue(hass, init_integration) is None


async def test_remove_takes_the_device_and_its_retained_topics_away(
    hass: HomeAssistant,
    porch_gone: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Remove: gone from the device list and the states; its retained announcement cleared."""
    init_integration = porch_gone
    await _pass(hass, freezer, timedelta(days=8))
    assert hass.states.get(PORCH) is not None
    menu = await _fix(hass, init_integration, "remove")
    assert "Porch (porch/s" in menu["description_placeholders"]["devices"]
    names = {
        device.name
        for device in dr.async_entries_for_config_entry(device_registry, porch_gone.entry_id)
    }
    assert "Porch" not in names
    assert "Hall motion" in names
    assert hass.states.get(PORCH) is None
    cleared = [
        (call.args[0], call.args[1], call.args[3])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0].startswith("inspextor/porch/s/") and call.args[3]
    ]
    assert cleared == [
        ("inspextor/porch/s/announce", "", True),
        ("inspextor/porch/s/availability", "", True),
    ]
    assert _issue(hass, init_integration) is None


async def test_keep_silences_this_absence_only(
    hass: HomeAssistant, porch_gone: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Keep: the device stays and no issue; after it comes back and goes again, a new one."""
    init_integration = porch_gone
    await _pass(hass, freezer, timedelta(days=8))
    await _fix(hass, init_integration, "keep")
    assert _issue(hass, init_integration) is None
    assert hass.states.get(PORCH) is not None
    await _pass(hass, freezer, timedelta(days=8))
    assert _issue(hass, init_integration) is None
    fire_availability(hass, "porch/s", True)
    fire_availability(hass, "porch/s", False)
    await _pass(hass, freezer, timedelta(days=7, hours=1))
    assert _issue(hass, init_integration) is not None


async def test_a_restart_does_not_restart_the_clock(
    hass: HomeAssistant, porch_gone: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Offline 4 days, reload (the retained `offline` comes again), 3 more days: stale."""
    init_integration = porch_gone
    await _pass(hass, freezer, timedelta(days=4))
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    fire_raw(hass, "inspextor/porch/s/announce", json.dumps({"name": "Porch", "kind": "steinel"}))
    fire_availability(hass, "porch/s", False, retain=True)
    await _pass(hass, freezer, timedelta(days=3, hours=1))
    assert _issue(hass, init_integration) is not None


async def test_a_deleted_site_takes_its_repair_and_its_times_along(
    hass: HomeAssistant,
    porch_gone: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Unloaded, the repair has nothing to do; deleted, the issue and the stored times go."""
    await _pass(hass, freezer, timedelta(days=8))
    assert _issue(hass, porch_gone) is not None
    assert await hass.config_entries.async_unload(porch_gone.entry_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(
        DOMAIN, data={"issue_id": stale_issue_id(porch_gone.entry_id)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_stale"
    assert f"{DOMAIN}.offline_{porch_gone.entry_id}" in hass_storage
    await hass.config_entries.async_remove(porch_gone.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, porch_gone) is None
    assert f"{DOMAIN}.offline_{porch_gone.entry_id}" not in hass_storage
