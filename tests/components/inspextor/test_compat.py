"""The integration uses only APIs present in both HA 2025.4 and 2026.x (FIELD_NOTES)."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
import re
import sys
from typing import Any

from homeassistant import const
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor import compat

from .helpers import find_device

SOURCE = Path(__file__).parents[3] / "custom_components" / "inspextor"

# name -> pattern of an API missing in 2025.4 or removed in 2026.x
FORBIDDEN: dict[str, re.Pattern[str]] = {
    "probatio": re.compile(r"\bprobatio\b"),
    "httpx2": re.compile(r"\bhttpx2\b"),
    "DeviceEntry.suggested_area": re.compile(r"\.suggested_area\b"),
    "async_register_platform_entity_service": re.compile(
        r"\basync_register_platform_entity_service\b"
    ),
    "async_unload_platforms_or_raise": re.compile(r"\basync_unload_platforms_or_raise\b"),
    "OptionsFlowWithReload": re.compile(r"\bOptionsFlowWithReload\b"),
    "UpdateFailed(retry_after=)": re.compile(r"\bretry_after\s*="),
    "ATTR_COLOR_TEMP (mireds)": re.compile(r"\bATTR_COLOR_TEMP\b"),
    "ATTR_MIN_MIREDS/ATTR_MAX_MIREDS": re.compile(r"\bATTR_(MIN|MAX)_MIREDS\b"),
    "color_temp / mireds": re.compile(r"color_temp(?!_kelvin)\b|mireds", re.IGNORECASE),
    "µg/m³ literal": re.compile(r"[µμ]g/m³|\\u00b5g/m\\u00b3|\\u03bcg/m\\u00b3"),
    "hassio discovery import": re.compile(r"homeassistant\.components\.hassio\b"),
    # Deprecated in 2026.x, removal announced for 2027.8 (pass today, break then):
    "DeviceRegistry.async_get_device": re.compile(r"\.async_get_device\("),
}

# Deprecated in 2026.x (removal 2027.8) but the only spelling 2025.4 has: allowed only in
# compat.py, which picks the new one where it exists.
DEPRECATED: dict[str, re.Pattern[str]] = {
    "DeviceInfo via_device (use via_device_id)": re.compile(r"\bvia_device\b"),
    "CONCENTRATION_MICROGRAMS_PER_CUBIC_METER (use UnitOfDensity)": re.compile(
        r"\bCONCENTRATION_MICROGRAMS_PER_CUBIC_METER\b"
    ),
}
COMPAT_MODULE = "compat.py"


def scan(text: str, *, compat: bool = False) -> list[str]:
    """Names of the forbidden APIs `text` uses (`compat`: the deprecated ones may appear)."""
    rules = FORBIDDEN if compat else FORBIDDEN | DEPRECATED
    return [name for name, pattern in rules.items() if pattern.search(text)]


BAD_SNIPPET = """
import probatio
import httpx2
area = device_entry.suggested_area
platform.async_register_platform_entity_service("x", {}, "y")
await hass.config_entries.async_unload_platforms_or_raise(entry, PLATFORMS)
class Flow(OptionsFlowWithReload): ...
raise UpdateFailed("x", retry_after=10)
from homeassistant.components.light import ATTR_COLOR_TEMP, ATTR_MIN_MIREDS, ATTR_MAX_MIREDS
self._attr_color_temp = 300
unit = "µg/m³"
from homeassistant.components.hassio import HassioServiceInfo
device = registry.async_get_device(identifiers={(DOMAIN, "x")})
info = DeviceInfo(identifiers={(DOMAIN, "x")}, via_device=(DOMAIN, "hub"))
unit = CONCENTRATION_MICROGRAMS_PER_CUBIC_METER
"""

GOOD_SNIPPET = """
from homeassistant.components.light import ATTR_COLOR_TEMP_KELVIN
info["suggested_area"] = "Kitchen"
unit = UnitOfDensity.MICROGRAMS_PER_CUBIC_METER
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
device = registry.async_get_device_by_identifier((DOMAIN, "x"), entry.entry_id)
devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
info["via_device_id"] = hub.id
"""


def test_scanner_finds_every_forbidden_api() -> None:
    """The scanner is able to fail: each rule hits the bad snippet."""
    assert scan(BAD_SNIPPET) == list(FORBIDDEN | DEPRECATED)
    for line in BAD_SNIPPET.strip().splitlines():
        assert scan(line), line
    assert scan(BAD_SNIPPET, compat=True) == list(FORBIDDEN)


def test_scanner_allows_the_replacements() -> None:
    """Kelvin, suggested_area, UnitOfDensity, service_info and the device lookups pass."""
    assert scan(GOOD_SNIPPET) == []


FILES = sorted(p for p in SOURCE.rglob("*") if p.suffix in {".py", ".json", ".yaml"})


def test_source_found() -> None:
    """The scan covers the integration's files."""
    names = {p.name for p in FILES}
    assert {"__init__.py", "light.py", "sensor.py", "config_flow.py", "manifest.json"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_source_is_compatible(path: Path) -> None:
    """No file uses an API missing in 2025.4, removed in 2026.x or deprecated in 2026.x.

    Only compat.py may name a deprecated API, as the fallback for 2025.4.
    """
    assert scan(path.read_text(encoding="utf-8"), compat=path.name == COMPAT_MODULE) == []


async def test_setup_reports_no_deprecated_use(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Setting up a site makes HA report no deprecated use (2026 logs `via_device` ones).

    The devices hang below the site's hub device on both versions.
    """
    hub = find_device(hass, "inspextor")
    kitchen = find_device(hass, "inspextor:kitchen/1")
    assert hub is not None
    assert kitchen is not None
    assert kitchen.via_device_id == hub.id
    assert [r.getMessage() for r in caplog.records if "deprecat" in r.getMessage().lower()] == []
    unit = hass.states.get("sensor.lab_ozone")
    assert unit is not None
    density = getattr(const, "UnitOfDensity", None)
    expected = (
        density.MICROGRAMS_PER_CUBIC_METER
        if density is not None
        else const.CONCENTRATION_MICROGRAMS_PER_CUBIC_METER
    )
    assert unit.attributes["unit_of_measurement"] == expected


@pytest.mark.parametrize(
    ("has_id", "parent_id", "expected"),
    [
        (True, "hub-id", {"via_device_id": "hub-id"}),
        (True, None, {"via_device": ("inspextor", "hub")}),
        (False, "hub-id", {"via_device": ("inspextor", "hub")}),
    ],
)
def test_parent_link_by_id_where_ha_has_it(
    monkeypatch: pytest.MonkeyPatch, has_id: bool, parent_id: str | None, expected: dict[str, Any]
) -> None:
    """HA 2026 gets the parent's device id; 2025.4 (or no id yet) the parent's identifier."""
    monkeypatch.setattr(compat, "HAS_VIA_DEVICE_ID", has_id)
    info = DeviceInfo(identifiers={("inspextor", "hub:x")})
    compat.set_via_device(info, ("inspextor", "hub"), parent_id)
    assert {k: v for k, v in info.items() if k != "identifiers"} == expected


# The HA APIs the interactions monitor and the thrash guard use (issue 13): each present in
# 2025.4 (imported below) and in 2026.x (read in home-assistant/core's current source,
# commit 0069cd7b: automation/__init__.py defines DATA_COMPONENT, EVENT_AUTOMATION_RELOADED,
# EVENT_AUTOMATION_TRIGGERED fired with the run's context, and BaseAutomationEntity.raw_config).
INTERACTION_APIS: dict[str, tuple[str, str]] = {
    "DATA_COMPONENT": ("homeassistant.components.automation", "DATA_COMPONENT"),
    "EVENT_AUTOMATION_RELOADED": (
        "homeassistant.components.automation",
        "EVENT_AUTOMATION_RELOADED",
    ),
    "EVENT_AUTOMATION_TRIGGERED": (
        "homeassistant.components.automation",
        "EVENT_AUTOMATION_TRIGGERED",
    ),
    "raw_config": ("homeassistant.components.automation", "BaseAutomationEntity"),
    "EVENT_SCRIPT_STARTED": ("homeassistant.components.script.const", "EVENT_SCRIPT_STARTED"),
    "async_at_started": ("homeassistant.helpers.start", "async_at_started"),
    "HassKey": ("homeassistant.util.hass_dict", "HassKey"),
    "SupportsResponse": ("homeassistant.core", "SupportsResponse"),
    "async_create_issue": ("homeassistant.helpers.issue_registry", "async_create_issue"),
    "async_delete_issue": ("homeassistant.helpers.issue_registry", "async_delete_issue"),
    "EVENT_ENTITY_REGISTRY_UPDATED": (
        "homeassistant.helpers.entity_registry",
        "EVENT_ENTITY_REGISTRY_UPDATED",
    ),
    "EVENT_DEVICE_REGISTRY_UPDATED": (
        "homeassistant.helpers.device_registry",
        "EVENT_DEVICE_REGISTRY_UPDATED",
    ),
    "EVENT_AREA_REGISTRY_UPDATED": (
        "homeassistant.helpers.area_registry",
        "EVENT_AREA_REGISTRY_UPDATED",
    ),
    "async_create_background_task": ("homeassistant.core", "HomeAssistant"),
}
INTERACTION_FILES = ("interaction_monitor.py", "thrash.py", "services.py")


def declared_members(cls: type) -> set[str]:
    """Names `cls` or its bases annotate, without evaluating the annotations.

    Python 3.14 evaluates `__annotations__` lazily, so reading it on a class whose
    annotations name types imported only for type checking (HA 2026's `HomeAssistant.auth:
    AuthManager`) raises NameError; FORWARDREF keeps those as references.
    """
    names: set[str] = set()
    for klass in inspect.getmro(cls):
        if sys.version_info >= (3, 14):
            import annotationlib  # Python 3.14+ only

            names |= set(inspect.get_annotations(klass, format=annotationlib.Format.FORWARDREF))
        else:
            names |= set(inspect.get_annotations(klass))  # 2025.4: strings, never evaluated
    return names


@pytest.mark.parametrize("name", INTERACTION_APIS)
def test_interaction_api_present(name: str) -> None:
    """Each API exists in the installed HA (2025.4 and 2026.x)."""
    module_name, attribute = INTERACTION_APIS[name]
    found = getattr(importlib.import_module(module_name), attribute)
    if name != attribute:  # a member of a class: a method, or an attribute set per instance
        assert hasattr(found, name) or name in declared_members(found), name


@pytest.mark.parametrize("name", INTERACTION_APIS)
def test_interaction_api_listed_is_used(name: str) -> None:
    """The list stays honest: every API it names is used by the interactions code."""
    text = "".join((SOURCE / file).read_text(encoding="utf-8") for file in INTERACTION_FILES)
    assert name in text, name
