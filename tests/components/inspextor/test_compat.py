"""The integration uses only APIs present in both HA 2025.4 and 2026.x (FIELD_NOTES)."""

from __future__ import annotations

import importlib
from pathlib import Path
import re

import pytest

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
    "µg/m³ literal": re.compile(r"µg/m³|\\u00b5g/m\\u00b3"),
    "hassio discovery import": re.compile(r"homeassistant\.components\.hassio\b"),
}


def scan(text: str) -> list[str]:
    """Names of the forbidden APIs `text` uses."""
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]


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
"""

GOOD_SNIPPET = """
from homeassistant.components.light import ATTR_COLOR_TEMP_KELVIN
info["suggested_area"] = "Kitchen"
unit = CONCENTRATION_MICROGRAMS_PER_CUBIC_METER
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
"""


def test_scanner_finds_every_forbidden_api() -> None:
    """The scanner is able to fail: each rule hits the bad snippet."""
    assert scan(BAD_SNIPPET) == list(FORBIDDEN)
    for line in BAD_SNIPPET.strip().splitlines():
        assert scan(line), line


def test_scanner_allows_the_replacements() -> None:
    """Kelvin, DeviceInfo's suggested_area key, the constant and service_info pass."""
    assert scan(GOOD_SNIPPET) == []


FILES = sorted(p for p in SOURCE.rglob("*") if p.suffix in {".py", ".json", ".yaml"})


def test_source_found() -> None:
    """The scan covers the integration's files."""
    names = {p.name for p in FILES}
    assert {"__init__.py", "light.py", "sensor.py", "config_flow.py", "manifest.json"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_source_is_compatible(path: Path) -> None:
    """No file of the integration uses an API missing in 2025.4 or removed in 2026.x."""
    assert scan(path.read_text(encoding="utf-8")) == []


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


@pytest.mark.parametrize("name", INTERACTION_APIS)
def test_interaction_api_present(name: str) -> None:
    """Each API exists in the installed HA (the 2025.4 floor)."""
    module_name, attribute = INTERACTION_APIS[name]
    found = getattr(importlib.import_module(module_name), attribute)
    if name != attribute:  # a member of a class
        assert name in found.__annotations__ or hasattr(found, name), name


@pytest.mark.parametrize("name", INTERACTION_APIS)
def test_interaction_api_listed_is_used(name: str) -> None:
    """The list stays honest: every API it names is used by the interactions code."""
    text = "".join((SOURCE / file).read_text(encoding="utf-8") for file in INTERACTION_FILES)
    assert name in text, name
