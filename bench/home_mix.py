"""A generated home for benchmark 4: kinds mixed as in a real home, and what each side of
the benchmark (ours, the floor, HA's MQTT platforms) needs to play it.

Per 12 devices: 4 dimmable lights, 2 RGBW lights, 2 shades, 2 motion sensors, 1 Steinel
multisensor (illuminance, temperature, humidity, motion) and 1 ozone sensor. Each blast
round sends one status per device: a light's brightness, a shade's position, a motion
sensor's motion, one of the Steinel's four readings in turn, an ozone reading; every value
differs from the previous round's, so every message must change a state (bench/ingest.py's
devices flip a motion from whatever they last sent, full answers included).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any

import yaml

from devkit.simulator import SimDeviceSpec

BASE = "inspextor"
_PATTERN = (
    "light",
    "light",
    "rgbw_light",
    "shade",
    "motion",
    "light",
    "steinel",
    "light",
    "rgbw_light",
    "shade",
    "motion",
    "ozone",
)
_STEINEL = ("illuminance", "temperature", "humidity", "motion")
_UNITS = {"illuminance": "lx", "temperature": "°C", "humidity": "%", "ozone": "µg/m³"}
_AREAS = ("Kitchen", "Living room", "Bedroom", "Office", "Hall", "Bathroom")


def fleet(count: int) -> list[SimDeviceSpec]:
    """`count` devices in the mix above, spread over areas and gateways of 100."""
    specs = []
    for i in range(count):
        kind = _PATTERN[i % len(_PATTERN)]
        label = kind.replace("_", " ")
        specs.append(
            SimDeviceSpec(
                f"bench{i // 100:03d}/{i}", f"Bench {label} {i}", kind, _AREAS[i % len(_AREAS)]
            )
        )
    return specs


def capabilities(spec: SimDeviceSpec) -> tuple[str, ...]:
    """Every entity-backing capability of a device (what the start-up answers carry)."""
    return {
        "light": ("brightness",),
        "rgbw_light": ("brightness",),
        "shade": ("position",),
        "motion": ("motion",),
        "steinel": _STEINEL,
        "ozone": ("ozone",),
    }[spec.kind]


def capability(spec: SimDeviceSpec, round_: int) -> str:
    """The one capability a device reports in blast round `round_`."""
    caps = capabilities(spec)
    return caps[round_ % len(caps)]


def value(spec: SimDeviceSpec, cap: str, round_: int) -> int | float | bool:
    """The value of `cap` in round `round_`: always different from the round before."""
    seed = round_ * 37 + len(spec.path)
    if cap == "brightness":
        return 1 + seed % 254
    if cap == "position":
        return seed % 101
    if cap == "motion":  # alternates between this capability's own reports
        return (round_ // len(capabilities(spec))) % 2 == 0
    if cap == "illuminance":
        return 10 + seed % 900
    if cap in ("temperature", "humidity"):
        return round(15 + (seed * 0.7) % 30, 1)
    return round(40 + (round_ * 7.3) % 60, 1)


def topic(spec: SimDeviceSpec, cap: str) -> str:
    """The status topic of one capability (no subtopic codes: the capability name)."""
    return f"{BASE}/{spec.path}/{cap}/status"


def message(value_: float | bool) -> str:
    """The status message that carries `value_`."""
    return json.dumps({"value": value_})


def payload(spec: SimDeviceSpec, cap: str, round_: int) -> str:
    """The status message the device sends in round `round_`."""
    return message(value(spec, cap, round_))


def shows(cap: str, state: dict[str, Any] | None, want: float | bool) -> bool:
    """Does an entity's state (REST form) show `want`?"""
    if state is None:
        return False
    attrs = state.get("attributes", {})
    if cap == "brightness":
        return bool(attrs.get("brightness") == want)
    if cap == "position":
        return bool(attrs.get("current_position") == want)
    if cap == "motion":
        return state.get("state") == ("on" if want else "off")
    try:
        return float(state["state"]) == want
    except (TypeError, ValueError, KeyError):
        return False


@dataclass(frozen=True, slots=True)
class EntityKey:
    """One entity of the home: a device's capability."""

    path: str
    cap: str


def topic_of(key: EntityKey) -> str:
    """The status topic of one entity."""
    return f"{BASE}/{key.path}/{key.cap}/status"


def entity_keys(specs: list[SimDeviceSpec]) -> list[EntityKey]:
    """Every entity the home has, in a stable order."""
    return [EntityKey(spec.path, cap) for spec in specs for cap in capabilities(spec)]


def unique_id_ours(key: EntityKey) -> str:
    """The unique id the integration gives an entity (entity.py)."""
    return f"{BASE}:{key.path}:{key.cap}"


def unique_id_mqtt(key: EntityKey) -> str:
    """The unique id the baseline's YAML gives an entity."""
    return f"bench_{key.path.replace('/', '_')}_{key.cap}"


def _mqtt_entity(spec: SimDeviceSpec, cap: str) -> tuple[str, dict[str, Any]]:
    state_topic = topic(spec, cap)
    common = {
        "unique_id": unique_id_mqtt(EntityKey(spec.path, cap)),
        "device": {"identifiers": [f"bench_{spec.path}"], "name": spec.name},
        "availability_topic": f"{BASE}/{spec.path}/availability",
    }
    if cap == "brightness":
        return "light", {
            **common,
            "name": None,
            "command_topic": state_topic.replace("/status", "/command"),
            "state_topic": state_topic,
            "state_value_template": "{{ 'ON' if value_json.value > 0 else 'OFF' }}",
            "brightness_command_topic": state_topic.replace("/status", "/command"),
            "brightness_state_topic": state_topic,
            "brightness_value_template": "{{ value_json.value }}",
            **_mqtt_rgbw(spec, state_topic),
        }
    if cap == "position":
        return "cover", {
            **common,
            "name": None,
            "device_class": "shade",
            "command_topic": state_topic.replace("/status", "/command"),
            "position_topic": state_topic,
            "position_template": "{{ value_json.value }}",
            "set_position_topic": state_topic.replace("/status", "/command"),
        }
    if cap == "motion":
        return "binary_sensor", {
            **common,
            "name": "Motion" if spec.kind == "steinel" else None,
            "device_class": "motion",
            "state_topic": state_topic,
            "value_template": "{{ 'ON' if value_json.value else 'OFF' }}",
        }
    return "sensor", {
        **common,
        "name": cap.capitalize() if spec.kind == "steinel" else None,
        "device_class": cap,
        "state_class": "measurement",
        "unit_of_measurement": _UNITS[cap],
        "state_topic": state_topic,
        "value_template": "{{ value_json.value }}",
    }


def _mqtt_rgbw(spec: SimDeviceSpec, brightness_topic: str) -> dict[str, Any]:
    """An RGBW light is RGBW on HA's MQTT side too (colour mode rgbw), as it is in ours and
    the floor: the same state, attributes included, on every side."""
    if spec.kind != "rgbw_light":
        return {}
    color = brightness_topic.replace("/brightness/", "/color/")
    return {
        "rgbw_command_topic": color.replace("/status", "/command"),
        "rgbw_state_topic": color,
        "rgbw_value_template": "{{ value_json.value | join(',') }}",
    }


def mqtt_yaml(specs: list[SimDeviceSpec]) -> str:
    """HA's own MQTT platforms for the same home (the baseline's configuration.yaml)."""
    platforms: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        for cap in capabilities(spec):
            domain, entity = _mqtt_entity(spec, cap)
            platforms.setdefault(domain, []).append(entity)
    return yaml.safe_dump({"mqtt": platforms}, allow_unicode=True)


def floor_plan(specs: list[SimDeviceSpec], rounds: int) -> dict[str, Any]:
    """What the floor integration needs, precomputed: its entities and, for every status
    message the bench will send, the state it stands for."""
    entities = []
    for spec in specs:
        for cap in capabilities(spec):
            entities.append(
                {
                    "unique_id": unique_id_ours(EntityKey(spec.path, cap)),
                    "device": spec.path,
                    "device_name": spec.name,
                    "area": spec.area,
                    "cap": cap,
                    "kind": spec.kind,
                    "name": cap.capitalize() if spec.kind == "steinel" else None,
                    "unit": _UNITS.get(cap),
                    "topic": topic(spec, cap),
                    "values": {payload(spec, cap, r): value(spec, cap, r) for r in range(rounds)},
                }
            )
    return {"base": BASE, "entities": entities}
