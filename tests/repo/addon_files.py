"""Paths and loaders for the add-on's files, shared by the tests in this folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
SERVICES = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"


def load_yaml(path: Path) -> Any:
    """Parse a plain YAML file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def addon_config() -> dict[str, Any]:
    """addon/config.yaml as a mapping."""
    data = load_yaml(ADDON / "config.yaml")
    assert isinstance(data, dict)
    return data
