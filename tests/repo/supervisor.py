"""The Home Assistant Supervisor's add-on rules, transcribed to check config.yaml here.

A config.yaml the Supervisor rejects does not fail a build: the store logs a warning and
the add-on silently does not show up. So the rules it applies are copied from its source
(supervisor/addons/validate.py, options.py, const.py; supervisor/validate.py) and applied
in tests. Option values are validated exactly as AddonOptions._single_validate does.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any

import voluptuous as vol

RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
ARCH_ALL = frozenset({"aarch64", "amd64", "armhf", "armv7", "i386"})
STARTUP = frozenset({"initialize", "system", "services", "application", "once"})
BOOT = frozenset({"auto", "manual", "manual_only"})
RE_VOLUME = re.compile(
    r"^(data|config|ssl|addons|backup|share|media|homeassistant_config|all_addon_configs"
    r"|addon_config)(?::(rw|ro))?$"
)
RE_PORT_KEY = re.compile(r"^\d+(?:/(?:tcp|udp))?$")
RE_DOCKER_IMAGE_BUILD = re.compile(
    r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)(:[\.\-\w{}]+)?$"
)
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>-?\d+)?,(?P<i_max>-?\d+)?\))?"
    r"|float(?:\((?P<f_min>-?\d*\.?\d+)?,(?P<f_max>-?\d*\.?\d+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)
_LENGTH_PARTS = ("i_min", "i_max", "f_min", "f_max", "s_min", "s_max", "p_min", "p_max")
REQUIRED_KEYS = ("name", "version", "slug", "description", "arch")

network_port = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))


def schema_bounds(typ: str) -> tuple[float | None, float | None]:
    """The (min, max) of an int(...)/float(...)/str(...) schema element, None when open."""
    match = RE_SCHEMA_ELEMENT.match(typ)
    if match is None:
        raise ValueError(f"unknown schema type {typ!r}")
    low = high = None
    for part in _LENGTH_PARTS:
        value = match.group(part)
        if value and part.endswith("min"):
            low = float(value)
        elif value:
            high = float(value)
    return low, high


def list_choices(typ: str) -> list[str]:
    """The choices of a list(a|b) schema element."""
    match = RE_SCHEMA_ELEMENT.match(typ)
    if match is None or match.group("list") is None:
        raise ValueError(f"{typ!r} is not a list(...) element")
    return match.group("list").split("|")


def validate_option(typ: str, value: Any) -> Any:
    """Validate one option value as the Supervisor does; raise vol.Invalid when refused."""
    if value is None:
        raise vol.Invalid("missing required option")
    match = RE_SCHEMA_ELEMENT.match(typ)
    if match is None:
        raise vol.Invalid(f"unknown type {typ!r}")
    range_args: dict[str, float] = {}
    for part in _LENGTH_PARTS:
        if group := match.group(part):
            range_args[part[2:]] = float(group)
    bounds = vol.Range(min=range_args.get("min"), max=range_args.get("max"))
    result: Any
    if typ.startswith(("str", "password")):
        result = vol.All(str(value), bounds)(value)
    elif typ.startswith("int"):
        result = vol.All(vol.Coerce(int), bounds)(value)
    elif typ.startswith("float"):
        result = vol.All(vol.Coerce(float), bounds)(value)
    elif typ.startswith("bool"):
        result = vol.Boolean()(value)
    elif typ.startswith("email"):
        result = vol.Email()(value)
    elif typ.startswith("url"):
        result = vol.Url()(value)
    elif typ.startswith("port"):
        result = network_port(value)
    elif typ.startswith("match"):
        result = vol.Match(match.group("match"))(str(value))
    elif typ.startswith("list"):
        result = vol.In(match.group("list").split("|"))(str(value))
    else:
        raise vol.Invalid(f"type {typ!r} cannot be checked here")
    return result


def validate_options(schema: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a whole options mapping (AddonOptions.__call__ for a flat schema)."""
    unknown = sorted(set(options) - set(schema))
    if unknown:
        raise vol.Invalid(f"options not in the schema: {unknown}")
    result = {key: validate_option(schema[key], value) for key, value in options.items()}
    for key, typ in schema.items():
        if key not in result and not typ.endswith("?"):
            raise vol.Invalid(f"missing option {key!r}")
    return result
