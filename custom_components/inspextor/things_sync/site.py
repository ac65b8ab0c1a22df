"""The things_sync site file: controllers, things, and which controller is Home Assistant.

Pure Python. `parse_site` turns YAML or JSON text into a `Site` or raises `SiteError`
naming the controller or thing at fault (the config flow shows it as a field error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import ipaddress
import json
from typing import Any

import yaml

DEFAULT_TTL = 30.0
DEFAULT_HA_PORT = 5005


class ValueType(StrEnum):
    """What a thing's value is."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STR = "str"


class Direction(StrEnum):
    """Who writes the thing: its owner (input), HA (output), or a one-shot pulse."""

    INPUT = "input"
    OUTPUT = "output"
    PULSE = "pulse"


@dataclass(frozen=True, slots=True)
class Controller:
    """A things_controller: where it listens and what roles it plays."""

    name: str
    host: str
    port: int
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Thing:
    """A thing owned by one controller."""

    name: str
    owner: str
    type: ValueType
    direction: Direction
    unit: str | None = None
    device_class: str | None = None
    area: str | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """A whole site. `ttl` None means repeat forever."""

    name: str
    ha_host: str
    ha_port: int
    controllers: dict[str, Controller]
    things: dict[str, Thing]
    ttl: float | None = DEFAULT_TTL
    key: str | None = field(default=None, repr=False)

    def things_of(self, controller: str) -> list[Thing]:
        """The things a controller owns, in file order."""
        return [thing for thing in self.things.values() if thing.owner == controller]


class SiteError(ValueError):
    """A site file problem: `error` is a config-flow error key, `where` the culprit."""

    def __init__(self, error: str, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.error = error
        self.where = where
        self.detail = detail

    @property
    def placeholders(self) -> dict[str, str]:
        """For translated messages."""
        return {"where": self.where, "detail": self.detail}


CONTROLLER_KEYS = frozenset({"host", "port", "roles"})
THING_KEYS = frozenset({"owner", "type", "direction", "unit", "device_class", "area", "min", "max"})
SITE_KEYS = frozenset({"name", "home_assistant", "controllers", "things", "ttl", "key"})


def _fail(where: str, detail: str, error: str = "invalid_site_file") -> SiteError:
    return SiteError(error, where, detail)


def _load(text: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise _fail("site", f"not YAML or JSON ({err.__class__.__name__})") from err
    if not isinstance(data, Mapping):
        raise _fail("site", "must be a mapping with controllers and things")
    unknown = set(data) - SITE_KEYS
    if unknown:
        raise _fail("site", f"unknown keys {sorted(unknown)}")
    return data


def _host(where: str, value: Any) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError as err:
        raise _fail(where, f"host {value!r} is not an IP address") from err


def _port(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _fail(where, f"port {value!r} is not 1-65535")
    return value


def _controller(name: str, spec: Any) -> Controller:
    where = f"controller {name}"
    if not isinstance(spec, Mapping):
        raise _fail(where, "must be a mapping with host and port")
    unknown = set(spec) - CONTROLLER_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    if "host" not in spec or "port" not in spec:
        raise _fail(where, "needs host and port")
    roles = spec.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _fail(where, "roles must be a list of names")
    return Controller(name, _host(where, spec["host"]), _port(where, spec["port"]), tuple(roles))


def _enum[E: StrEnum](where: str, kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(value)
    except ValueError as err:
        choices = ", ".join(member.value for member in kind)
        raise _fail(where, f"{what} {value!r} is not one of {choices}") from err


def _number(where: str, spec: Mapping[str, Any], key: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"{key} must be a number")
    return float(value)


def _thing(name: str, spec: Any, controllers: Mapping[str, Controller]) -> Thing:
    where = f"thing {name}"
    if not isinstance(spec, Mapping):
        raise _fail(where, "must be a mapping with owner, type and direction")
    unknown = set(spec) - THING_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    owner = spec.get("owner")
    if owner not in controllers:
        raise _fail(where, f"owner {owner!r} is not a controller of the site", "unknown_owner")
    value_type = _enum(where, ValueType, spec.get("type"), "type")
    direction = _enum(where, Direction, spec.get("direction"), "direction")
    if direction is Direction.PULSE and value_type is not ValueType.BOOL:
        raise _fail(where, "a pulse is a bool")
    if direction is Direction.OUTPUT and value_type is ValueType.STR:
        raise _fail(where, "an output is a bool, an int or a float")
    texts = {key: spec.get(key) for key in ("unit", "device_class", "area")}
    for key, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise _fail(where, f"{key} must be text")
    return Thing(
        name,
        str(owner),
        value_type,
        direction,
        texts["unit"],
        texts["device_class"],
        texts["area"],
        _number(where, spec, "min"),
        _number(where, spec, "max"),
    )


def _named(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = data.get(key)
    if not isinstance(section, Mapping) or not section:
        raise _fail(key, f"{key} must be a non-empty mapping by name")
    for name in section:
        if not isinstance(name, str) or not name or len(name) > 64:
            raise _fail(key, f"name {name!r} must be text of 1-64 characters")
    return section


def _home_assistant(data: Mapping[str, Any]) -> tuple[str, int]:
    spec = data.get("home_assistant", {})
    if not isinstance(spec, Mapping) or set(spec) - {"host", "port"}:
        raise _fail("home_assistant", "must be a mapping with host and port")
    return (
        _host("home_assistant", spec.get("host", "0.0.0.0")),  # noqa: S104 - listen address
        _port("home_assistant", spec.get("port", DEFAULT_HA_PORT)),
    )


def _ttl(data: Mapping[str, Any]) -> float | None:
    ttl = data.get("ttl", DEFAULT_TTL)
    if ttl == "forever":
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        raise _fail("ttl", "ttl must be a positive number of seconds or 'forever'")
    return float(ttl)


def parse_site(text: str) -> Site:
    """Parse and validate a site file (YAML or JSON)."""
    data = _load(text)
    controllers = {
        name: _controller(name, spec) for name, spec in _named(data, "controllers").items()
    }
    seen: dict[tuple[str, int], str] = {}
    for controller in controllers.values():
        other = seen.setdefault((controller.host, controller.port), controller.name)
        if other != controller.name:
            raise _fail(f"controller {controller.name}", f"same host and port as {other}")
    things = {
        name: _thing(name, spec, controllers) for name, spec in _named(data, "things").items()
    }
    key = data.get("key")
    if key is not None and (not isinstance(key, str) or len(key) < 8):
        raise _fail("key", "the shared key must be text of at least 8 characters")
    ha_host, ha_port = _home_assistant(data)
    name = data.get("name", "things_sync")
    return Site(str(name), ha_host, ha_port, controllers, things, _ttl(data), key)
