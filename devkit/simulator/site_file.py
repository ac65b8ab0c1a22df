"""Site maps for the simulator: load the integration's format, or generate a mixed fleet.

The format is docs/protocol.md "Site map" (JSON or YAML). The simulator only needs what a
device needs to behave: path, name, kind, area and its subtopic codes. Full validation is
the integration's job; here a bad entry raises ValueError naming the device path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path
import random
from typing import Any

import yaml

KIND_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "light": ("brightness",),
    "rgbw_light": ("brightness", "color"),
    "shade": ("position", "motion"),
    "motion": ("motion",),
    "steinel": ("illuminance", "temperature", "humidity", "motion"),
    "ozone": ("ozone",),
}

# Subtopic codes the generator uses for some kinds, so the mapping path is exercised.
_GENERATED_CODES: dict[str, dict[str, str]] = {
    "light": {"M": "brightness"},
    "rgbw_light": {"M": "brightness", "C": "color"},
    "shade": {"P": "position", "D": "motion"},
}

_AREAS = ("Kitchen", "Living room", "Bedroom", "Office", "Hall", "Bathroom", "Garage")
_KIND_WEIGHTS = (
    ("light", 4),
    ("rgbw_light", 2),
    ("shade", 2),
    ("motion", 1),
    ("steinel", 1),
    ("ozone", 1),
)
_KIND_LABEL = {
    "light": "light",
    "rgbw_light": "RGBW light",
    "shade": "shade",
    "motion": "motion sensor",
    "steinel": "Steinel sensor",
    "ozone": "ozone sensor",
}


class SiteMapError(ValueError):
    """A site map the simulator cannot use; the message names the device and field."""


@dataclass(slots=True)
class SimDeviceSpec:
    """One device of a site: where it lives on the broker and what it is."""

    path: str
    name: str
    kind: str
    area: str | None = None
    # subtopic code -> capability name
    subtopics: dict[str, str] = field(default_factory=dict)

    def subtopic_for(self, capability: str) -> str:
        """The subtopic code this device publishes a capability under."""
        for code, cap in self.subtopics.items():
            if cap == capability:
                return code
        return capability

    def capability_for(self, subtopic: str) -> str | None:
        """The capability a subtopic code means for this device (None: not ours)."""
        capability = self.subtopics.get(subtopic, subtopic)
        return capability if capability in KIND_CAPABILITIES[self.kind] else None

    def to_site_map_entry(self) -> dict[str, Any]:
        """This device as a site map entry."""
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.area:
            entry["area"] = self.area
        if self.subtopics:
            entry["subtopics"] = dict(self.subtopics)
        return entry


def parse_site_map(data: Any) -> list[SimDeviceSpec]:
    """Turn a parsed site map (dict) into device specs; ValueError names the bad device."""
    if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
        raise SiteMapError("site map: expected a mapping with a 'devices' mapping")
    defaults = data.get("subtopics") or {}
    if not isinstance(defaults, dict):
        raise SiteMapError("site map: 'subtopics' must be a mapping")
    specs: list[SimDeviceSpec] = []
    for path, entry in data["devices"].items():
        if not isinstance(entry, dict):
            raise SiteMapError(f"site map: device {path}: expected a mapping")
        kind = entry.get("kind")
        if kind not in KIND_CAPABILITIES:
            raise SiteMapError(f"site map: device {path}: unknown kind {kind!r}")
        own = entry.get("subtopics") or {}
        # The device's own codes win over the site-wide ones for the same capability.
        inherited = {c: cap for c, cap in defaults.items() if cap not in own.values()}
        merged = {
            str(code): str(cap)
            for code, cap in {**inherited, **own}.items()
            if cap in KIND_CAPABILITIES[kind]
        }
        specs.append(
            SimDeviceSpec(
                path=str(path),
                name=str(entry.get("name") or path),
                kind=kind,
                area=entry.get("area"),
                subtopics=merged,
            )
        )
    return specs


def load_site_map(path: Path) -> list[SimDeviceSpec]:
    """Read a JSON or YAML site map file (blocking: call it off the loop)."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return parse_site_map(data)


def generate_fleet(count: int, seed: int | None = None, prefix: str = "sim") -> list[SimDeviceSpec]:
    """A mixed fleet of `count` devices (deterministic for a given seed)."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    kinds = [kind for kind, _ in _KIND_WEIGHTS]
    weights = [weight for _, weight in _KIND_WEIGHTS]
    specs: list[SimDeviceSpec] = []
    for index in range(count):
        # The first six cover every kind, so even a tiny fleet is mixed.
        kind = kinds[index] if index < len(kinds) else rng.choices(kinds, weights)[0]
        area = _AREAS[rng.randrange(len(_AREAS))]
        gateway = f"{prefix}{index // 100:02d}"
        specs.append(
            SimDeviceSpec(
                path=f"{gateway}/{index}",
                name=f"{area} {_KIND_LABEL[kind]} {index}",
                kind=kind,
                area=area,
                subtopics=dict(_GENERATED_CODES.get(kind, {})),
            )
        )
    return specs


def site_map_document(specs: list[SimDeviceSpec]) -> dict[str, Any]:
    """The site map the integration reads for these devices."""
    return {"devices": {spec.path: spec.to_site_map_entry() for spec in specs}}


def dump_site_map(specs: list[SimDeviceSpec], path: Path) -> None:
    """Write the site map as JSON (.json) or YAML (anything else). Blocking."""
    document = site_map_document(specs)
    if path.suffix == ".json":
        text = json.dumps(document, indent=2, ensure_ascii=False)
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
