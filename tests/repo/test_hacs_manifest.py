"""hacs.json and the integration's manifest.json, as HACS and hassfest read them."""

from __future__ import annotations

import json

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
MANIFEST = ROOT / "custom_components" / "inspextor" / "manifest.json"


def test_hacs_json_uses_only_known_keys() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) <= HACS_KEYS, f"HACS rejects {set(hacs) - HACS_KEYS}"
    assert hacs["name"] == "InspeXtor"
    assert hacs["homeassistant"] == "2025.4.0"
    assert "country" not in hacs, "InspeXtor is not limited to some countries"
    assert "persistent_directory" not in hacs, "the integration keeps no files in its folder"


def test_integration_and_addon_are_released_together() -> None:
    """The manifest's key order and keys are checked in tests/components (test_manifest)."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    addon_version = (ROOT / "addon" / "config.yaml").read_text(encoding="utf-8")
    assert f'version: "{manifest["version"]}"' in addon_version, "release both together"
