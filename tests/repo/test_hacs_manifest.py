"""hacs.json and the integration's manifest.json, as HACS and hassfest read them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.repo.addon_files import ROOT

HACS_KEYS = {
    "name",
    "homeassistant",
    "hacs",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "persistent_directory",
}
# hassfest's manifest schema for custom integrations (script/hassfest/manifest.py)
MANIFEST_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
MANIFEST_REQUIRED = {"domain", "name", "codeowners", "documentation", "iot_class"}
CUSTOM_REQUIRED = {"version", "issue_tracker"}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
MANIFEST = ROOT / "custom_components" / "inspextor" / "manifest.json"


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Everything hassfest (and HACS) would object to in a custom integration's manifest."""
    problems = []
    keys = list(manifest)
    expected_order = ["domain", "name", *sorted(k for k in keys if k not in ("domain", "name"))]
    if keys != expected_order:
        problems.append(f"keys must be domain, name, then sorted: {keys}")
    if unknown := set(keys) - MANIFEST_KEYS:
        problems.append(f"unknown keys {sorted(unknown)}")
    if missing := (MANIFEST_REQUIRED | CUSTOM_REQUIRED) - set(keys):
        problems.append(f"missing keys {sorted(missing)}")
    if manifest.get("iot_class") not in IOT_CLASSES:
        problems.append(f"iot_class {manifest.get('iot_class')!r} is not valid")
    return problems


def test_hacs_json_uses_only_known_keys() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) <= HACS_KEYS, f"HACS rejects {set(hacs) - HACS_KEYS}"
    assert hacs["name"] == "InspeXtor"
    assert hacs["homeassistant"] == "2025.4.0"
    assert "country" not in hacs, "InspeXtor is not limited to some countries"
    assert "persistent_directory" not in hacs, "the integration keeps no files in its folder"


def test_manifest_is_valid_for_hassfest_and_hacs() -> None:
    if not MANIFEST.exists():
        pytest.skip("custom_components/inspextor/manifest.json is not written yet")
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert manifest_problems(manifest) == []
    assert manifest["domain"] == "inspextor"
    assert "mqtt" in manifest.get("dependencies", [])
    addon_version = (ROOT / "addon" / "config.yaml").read_text(encoding="utf-8")
    assert f'version: "{manifest["version"]}"' in addon_version, "release both together"


def test_manifest_checker_catches_mistakes() -> None:
    good = {
        "domain": "x",
        "name": "X",
        "codeowners": [],
        "documentation": "https://example.com",
        "iot_class": "local_push",
        "issue_tracker": "https://example.com/issues",
        "version": "1.0.0",
    }
    assert manifest_problems(good) == []
    unsorted = {"name": "X", "domain": "x"} | {
        k: v for k, v in good.items() if k not in ("domain", "name")
    }
    assert manifest_problems(unsorted)
    assert manifest_problems(good | {"country": "NL"})
    assert manifest_problems({k: v for k, v in good.items() if k != "version"})
    assert manifest_problems(good | {"iot_class": "local"})
