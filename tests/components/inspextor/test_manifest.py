"""Static checks of the integration's files: manifest, translations, icons, quality scale."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion
import homeassistant
import yaml

PACKAGE = Path(__file__).parents[3] / "custom_components" / "inspextor"
MANIFEST_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "documentation",
    "homekit",
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


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PACKAGE / name).read_text(encoding="utf-8"))
    return data


def _source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.glob("*.py")))


def test_manifest() -> None:
    """domain, name, then sorted keys; only known keys; what a custom integration needs."""
    manifest = _json("manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert set(keys) <= MANIFEST_KEYS
    assert manifest["domain"] == "inspextor"
    assert manifest["dependencies"] == ["mqtt"]
    assert manifest["requirements"] == []
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] == "hub"
    assert manifest["config_flow"] is True
    assert manifest["codeowners"]
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    assert AwesomeVersion(manifest["version"]).valid
    assert all(topic.startswith("inspextor/") for topic in manifest["mqtt"])
    assert not (PACKAGE / "strings.json").exists()


def test_every_translation_key_exists() -> None:
    """Errors, aborts, exceptions and entity names used in the code are all translated."""
    en = _json("translations/en.json")
    source = _source()
    for key in set(re.findall(r'translation_key="(\w+)"', source)):
        assert key in en["exceptions"] or any(key in en["entity"][p] for p in en["entity"]), key
    site_map_errors = set(re.findall(r'SiteMapError\(\s*"(\w+)"', source))
    assert len(site_map_errors) >= 9
    for error in site_map_errors:
        assert error in en["config"]["error"], error
        assert error in en["options"]["error"], error
    for reason in set(re.findall(r'reason="(\w+)"', source)) | {
        "already_configured",
        "already_in_progress",
        "reconfigure_successful",
    }:
        assert (
            reason in en["config"]["abort"]
            or reason in en["options"]["abort"]
            or any(
                reason in issue.get("fix_flow", {}).get("abort", {})
                for issue in en["issues"].values()
            )
        ), reason
    fix_steps = {
        step
        for issue in en["issues"].values()
        for step in issue.get("fix_flow", {}).get("step", {})
    }
    for step in re.findall(r'step_id="(\w+)"', source):
        assert step in en["config"]["step"] or step in en["options"]["step"] or step in fix_steps, (
            step
        )
    for error in set(re.findall(r'errors\[[^]]+\] = "(\w+)"', source)):
        assert error in en["config"]["error"] or error in en["options"]["error"], error
    assert set(en["config"]["step"]["user"]["menu_options"]) == {"site", "things_sync", "bridge"}
    assert set(en["options"]["step"]["bridge_menu"]["menu_options"]) == {"exposure", "deregister"}
    for issue in (
        "subscription_expired",
        "certificate_expiring",
        "kick_loop",
        "certificate_rotation_failed",
        "provisioning_failed",
    ):
        assert en["issues"][issue]["title"], issue
        assert en["issues"][issue]["description"], issue
    fix = en["issues"]["certificate_rotation_due"]["fix_flow"]  # fixable: a confirm step
    assert fix["step"]["confirm"]["description"]
    stale = en["issues"]["stale_devices"]["fix_flow"]["step"]["stale_devices"]
    assert set(stale["menu_options"]) == {"remove", "keep"}


def test_entity_translations_and_icons() -> None:
    """Each entity translation key has a name and an icon."""
    en = _json("translations/en.json")["entity"]
    icons = _json("icons.json")["entity"]
    source = _source()
    used = set(re.findall(r'translation_key\s*=\s*"(\w+)"', source))
    translated = {key for platform in en.values() for key in platform}
    assert used - translated <= set(_json("translations/en.json")["exceptions"])
    for platform, keys in en.items():
        assert set(keys) == set(icons[platform]), platform
        for key, value in keys.items():
            assert value["name"], key


def test_services_documented() -> None:
    """services.yaml, its translations and its icon agree."""
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    translations = _json("translations/en.json")["services"]
    icons = _json("icons.json")["services"]
    assert set(services) == set(translations) == set(icons)
    for name, service in services.items():
        assert set(service["fields"]) == set(translations[name]["fields"])


# Rules HA added after our floor (2025.4.4); listed in ours so that 2026.x finds them.
RULES_ADDED_SINCE_FLOOR = {"docs-conditions", "docs-triggers"}


def test_quality_scale_honest() -> None:
    """Every rule of the installed HA is listed; Bronze to Gold are done or exempt with a reason.

    Rules only a newer HA has may be listed beyond the installed HA's, nothing else.
    """
    reference = yaml.safe_load(
        (Path(homeassistant.__file__).parent / "components/tailwind/quality_scale.yaml").read_text()
    )["rules"]
    ours = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]
    assert set(ours) == set(reference) | (RULES_ADDED_SINCE_FLOOR & set(ours))
    assert set(ours) >= RULES_ADDED_SINCE_FLOOR
    platinum = {"async-dependency", "inject-websession", "strict-typing"}
    for rule, value in ours.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "exempt", "todo"}, rule
        if status == "exempt":
            assert value["comment"], rule
        if rule not in platinum:
            assert status != "todo", rule


def test_brand_icons_are_png() -> None:
    """The brand icons ship with the integration."""
    for name in ("icon.png", "icon@2x.png"):
        assert (PACKAGE / "brand" / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
