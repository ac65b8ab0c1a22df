"""The HA 2026.x / Python 3.14 test set-up: checksums, lock, bootstrap refusal, forms."""

from __future__ import annotations

from pathlib import Path
import re
import shutil
import subprocess

from devkit.devstack.hass import section_defaults

ROOT = Path(__file__).resolve().parents[2]
SUMS = ROOT / "requirements" / "py314-debs.sha256"
DEB = re.compile(r"^[0-9a-f]{64}  (?P<name>[a-z0-9.+-]+)_(?P<version>[^_]+)_(?:amd64|all)\.deb$")


def test_checksums_name_python_and_pip() -> None:
    """Every recorded sid package is pinned by name, version and sha256."""
    lines = SUMS.read_text().splitlines()
    names = {m["name"] for line in lines if (m := DEB.match(line))}
    assert len(names) == len(lines), [line for line in lines if not DEB.match(line)]
    assert {"python3.14", "libpython3.14-stdlib", "libc6", "libssl3t64", "python3-pip-whl"} <= names


def test_current_lock_pins_ha_2026() -> None:
    """The 2026 tree is pinned: the plugin and the homeassistant it requires."""
    lock = (ROOT / "requirements" / "lock-current-ha.txt").read_text()
    assert re.search(r"^homeassistant==2026\.\d+\.\d+$", lock, re.MULTILINE)
    assert re.search(r"^pytest-homeassistant-custom-component==0\.13\.375$", lock, re.MULTILINE)


def test_bootstrap_refuses_a_package_that_does_not_match(tmp_path: Path) -> None:
    """A fetched package whose sha256 differs stops the set-up with a clear message."""
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    (tmp_path / "requirements").mkdir()
    lines = SUMS.read_text().splitlines()[:2]
    (tmp_path / "requirements" / "py314-debs.sha256").write_text("\n".join(lines) + "\n")
    (tmp_path / "requirements" / "lock-current-ha.txt").write_text("")
    debs = tmp_path / ".py314" / "apt" / "cache" / "archives"
    debs.mkdir(parents=True)
    for line in lines:
        (debs / line.split()[1]).write_bytes(b"not the recorded package")
    proc = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "bootstrap_current_ha.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "does not match requirements/py314-debs.sha256: refusing to use it" in proc.stderr
    assert not (tmp_path / ".py314" / "prefix").exists()


# HA 2026.10's MQTT broker step as its config-flow API serializes it (trimmed).
MQTT_2026_FORM = [
    {"name": "broker", "required": True, "selector": {"text": {}}},
    {"name": "port", "required": True, "default": 1883, "selector": {"number": {}}},
    {
        "name": "other_settings",
        "required": True,
        "type": "expandable",
        "expanded": False,
        "schema": [
            {"name": "client_id", "optional": True, "selector": {"text": {}}},
            {"name": "set_client_cert", "required": True, "selector": {"boolean": {}}},
            {
                "name": "set_ca_cert",
                "required": True,
                "selector": {"select": {"options": ["off", "auto", "custom"]}},
            },
            {
                "name": "transport",
                "required": True,
                "default": "tcp",
                "selector": {"select": {"options": [{"value": "tcp", "label": "TCP"}]}},
            },
        ],
    },
]


def test_collapsed_sections_are_sent_as_the_frontend_does() -> None:
    """A closed section goes with its defaults; forms without sections get nothing."""
    assert section_defaults(MQTT_2026_FORM) == {
        "other_settings": {"set_client_cert": False, "set_ca_cert": "off", "transport": "tcp"}
    }
    assert section_defaults(MQTT_2026_FORM[:2]) == {}
