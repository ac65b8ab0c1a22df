"""The table of entry kinds: every platform is served, and a new kind plugs in with one entry."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor import async_remove_config_entry_device, entry_kinds
from custom_components.inspextor.const import (
    CONF_ENTRY_TYPE,
    DOMAIN,
    is_bridge_entry,
    is_site_entry,
)
from custom_components.inspextor.diagnostics import async_get_config_entry_diagnostics
from custom_components.inspextor.entry_kinds import ENTRY_KINDS, EntryKind

PACKAGE = Path(entry_kinds.__file__).parent
PLATFORM_MODULES = {p for p in Platform if (PACKAGE / f"{p.value}.py").is_file()}


def test_every_platform_of_every_kind_has_its_module() -> None:
    """A kind's platform without a module would never be set up by HA."""
    used = {platform for kind in ENTRY_KINDS.values() for platform in kind.platforms}
    assert used == PLATFORM_MODULES
    for platform in used:
        module = import_module(f"custom_components.inspextor.{platform.value}")
        assert callable(module.async_setup_entry)
        assert isinstance(module.PARALLEL_UPDATES, int)


async def test_guards_tell_the_kinds_apart(
    hass: HomeAssistant, init_integration: MockConfigEntry, init_bridge: MockConfigEntry
) -> None:
    """`is_site_entry` and `is_bridge_entry` narrow exactly their own kind."""
    assert is_site_entry(init_integration)
    assert not is_bridge_entry(init_integration)
    assert is_bridge_entry(init_bridge)
    assert not is_site_entry(init_bridge)
    other = MockConfigEntry(domain="mqtt", data={})
    assert not is_site_entry(other)
    assert not is_bridge_entry(other)


async def test_unknown_kind_is_a_setup_error(hass: HomeAssistant) -> None:
    """An `entry_type` this version does not know: a translated setup error, removable."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_ENTRY_TYPE: "toaster"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.error_reason_translation_key == "unknown_entry_type"
    assert (await hass.config_entries.async_remove(entry.entry_id))["require_restart"] is False


class _Counter(SensorEntity):
    _attr_has_entity_name = True
    _attr_name = "Count"

    def __init__(self, entry: ConfigEntry[Any]) -> None:
        self._attr_unique_id = f"{entry.entry_id}:count"
        self._attr_native_value = entry.runtime_data["count"]
        self._attr_device_info = dr.DeviceInfo(identifiers={(DOMAIN, entry.entry_id)}, name="Toy")


async def _setup_toy(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    entry.runtime_data = {"count": 7}


@callback
def _add_toy_sensors(
    hass: HomeAssistant, entry: ConfigEntry[Any], async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    async_add_entities([_Counter(entry)])


async def test_a_new_kind_plugs_in_with_one_table_entry(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One more EntryKind in the table: set up, its sensor, diagnostics, unload, removal."""
    removed: list[str] = []
    toy = EntryKind[ConfigEntry[Any]](
        async_setup=_setup_toy,
        platforms={Platform.SENSOR: _add_toy_sensors},
        diagnostics=lambda entry: {"toy": dict(entry.runtime_data), "secret": "x"},
        redact=frozenset({"secret"}),
        removed=lambda hass, entry: removed.append(entry.entry_id),
    )
    monkeypatch.setitem(ENTRY_KINDS, "toy", toy)
    entry = MockConfigEntry(domain=DOMAIN, title="Toy", data={CONF_ENTRY_TYPE: "toy"})
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    state = hass.states.get("sensor.toy_count")
    assert state is not None
    assert state.state == "7"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["toy"] == {"count": 7}
    assert diagnostics["secret"] == "**REDACTED**"
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert not await async_remove_config_entry_device(hass, entry, device)  # kept by default

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass.states.get("sensor.toy_count").state == "unavailable"
    await hass.config_entries.async_remove(entry.entry_id)
    assert removed == [entry.entry_id]
