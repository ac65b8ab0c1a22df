"""The controllers of a things_sync site file, as the simulator reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(slots=True)
class ThingSpec:
    """A thing a simulated controller owns."""

    name: str
    type: str
    direction: str


@dataclass(slots=True)
class ControllerSpec:
    """One controller: where it listens, who Home Assistant is, what it owns."""

    name: str
    host: str
    port: int
    ha: tuple[str, int]
    roles: list[str] = field(default_factory=list)
    things: list[ThingSpec] = field(default_factory=list)
    key: str | None = None


def parse_controllers(text: str) -> list[ControllerSpec]:
    """Every controller of a site file (YAML or JSON), with the things it owns."""
    data: dict[str, Any] = yaml.safe_load(text)
    ha_spec = data.get("home_assistant", {})
    ha = (str(ha_spec.get("host", "127.0.0.1")), int(ha_spec.get("port", 5005)))
    if ha[0] == "0.0.0.0":  # noqa: S104 - HA listens everywhere; reach it on loopback
        ha = ("127.0.0.1", ha[1])
    specs = {
        name: ControllerSpec(
            name, str(c["host"]), int(c["port"]), ha, list(c.get("roles", [])), [], data.get("key")
        )
        for name, c in data["controllers"].items()
    }
    for name, thing in data["things"].items():
        spec = ThingSpec(name, str(thing["type"]), str(thing["direction"]))
        specs[thing["owner"]].things.append(spec)
    return list(specs.values())


def load_controllers(path: Path) -> list[ControllerSpec]:
    """parse_controllers of a file."""
    return parse_controllers(path.read_text(encoding="utf-8"))
