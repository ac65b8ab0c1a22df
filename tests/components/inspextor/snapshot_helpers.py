"""Snapshots of every entity of one platform that hold on HA 2025.4 and on HA 2026.x.

The snapshots are the spec of what a user sees: entity id, registry entry, state,
attributes and device. They are made version-independent in two ways:

- the site map of the snapshots gives no device an area: HA 2026 puts the area into new
  entity ids (`light.kitchen_kitchen_light`), HA 2025.4 does not; without an area both
  make `light.kitchen_light`. Areas are snapshotted through the device (`area_id`) in
  test_init.py::test_devices, whose ids do not depend on the version;
- registry fields that only one version has are left out of the snapshot
  (`VERSION_SPECIFIC`), and a device is snapshotted as the fields both versions share
  (`device_fields`);
- state attributes that only one version writes are left out too (a cover's
  `is_closed`, new in 2026; its state `open`/`closed` says the same);
- string enums are written as their value (`'°C'`, `'shade'`), so a unit that is a plain
  string in one version and an enum member in the other shows the same; the micro sign
  (U+00B5, HA 2025.4's "µg/m³") is written as the Greek mu (U+03BC) HA 2026 uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.inspextor.const import DOMAIN, entry_type, is_site_entry
from custom_components.inspextor.entry_kinds import ENTRY_KINDS

from .helpers import SITE_MAP, fire_availability, fire_status

# Snapshot one platform (a conftest fixture binds the entry).
type SnapshotPlatform = Callable[[Platform], Awaitable[None]]

# Entity registry fields of HA 2026.x that HA 2025.4 does not have (the serializer of
# pytest-homeassistant-custom-component already drops `compat_aliases` and
# `original_name_unprefixed`); `aliases` is serialized as a set in one, a list in the other.
VERSION_SPECIFIC = props("object_id_base", "suggested_object_id", "aliases", "is_closed")
MICRO_SIGN, GREEK_MU = "\u00b5", "\u03bc"


def version_neutral(*, data: Any, path: Any) -> Any:
    """A string enum member as its value; the micro sign as HA 2026's mu (syrupy matcher)."""
    if isinstance(data, str):
        return str(data).replace(MICRO_SIGN, GREEK_MU)
    return data


# The site map of the snapshots: the test site's, with no area (see the module docstring)
# and the kitchen light's model and firmware instead.
SNAPSHOT_SITE_MAP = SITE_MAP.replace(
    "    area: Kitchen\n", '    model: Dimmer 300\n    sw_version: "2.1"\n'
)
assert SNAPSHOT_SITE_MAP.count("area:") == 0

# What every device of SNAPSHOT_SITE_MAP reports: path -> subtopic -> value.
REPORTS: dict[str, dict[str, Any]] = {
    "kitchen/1": {"M": 128},
    "living/2": {"M": 200, "C": [255, 64, 0, 10]},
    "bedroom/shade": {"position": 40, "motion": "stopped"},
    "hall/pir": {"motion": True},
    "garden/steinel": {"illuminance": 1200, "temperature": 21.5, "humidity": 55, "motion": False},
    "lab/o3": {"ozone": 42.5},
}


async def report_everything(hass: HomeAssistant) -> None:
    """Every device is online and reports every capability."""
    for path, statuses in REPORTS.items():
        fire_availability(hass, path, True)
        for subtopic, value in statuses.items():
            fire_status(hass, path, subtopic, value)
    await hass.async_block_till_done()


def only_platform(monkeypatch: pytest.MonkeyPatch, kind: str, platform: Platform) -> None:
    """Let entries of `kind` set up one platform (snapshot_platform wants one)."""
    entry_kind = ENTRY_KINDS[kind]
    monkeypatch.setitem(
        ENTRY_KINDS,  # type: ignore[arg-type]
        kind,
        replace(entry_kind, platforms={platform: entry_kind.platforms[platform]}),
    )


def device_fields(hass: HomeAssistant, device_id: str | None) -> dict[str, Any]:
    """What a user sees of a device, in fields both HA versions have."""
    devices = dr.async_get(hass)
    device = devices.async_get(device_id) if device_id else None
    assert device is not None
    parent = devices.async_get(device.via_device_id) if device.via_device_id else None
    return {
        "name": device.name,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "sw_version": device.sw_version,
        "identifiers": sorted(device.identifiers),
        "area_id": device.area_id,
        "via_device": sorted(parent.identifiers) if parent else None,
        "entry_type": device.entry_type,
        "disabled_by": device.disabled_by,
    }


async def snapshot_entities(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
    platform: Platform,
) -> None:
    """Set the entry up with `platform` alone; snapshot each entity and its device.

    A site's devices first report every capability (`REPORTS`), so states are not
    `unknown`; a bridge entry shows the fake bridge's status.
    """
    only_platform(monkeypatch, entry_type(entry), platform)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if is_site_entry(entry):
        await report_everything(hass)
    entities = er.async_get(hass)
    snapshot = snapshot.with_defaults(exclude=VERSION_SPECIFIC, matcher=version_neutral)
    await snapshot_platform(hass, entities, snapshot, entry.entry_id)
    for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
        assert entity.platform == DOMAIN
        assert device_fields(hass, entity.device_id) == snapshot(name=f"{entity.entity_id}-device")
