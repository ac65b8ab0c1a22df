"""The site map: which device lives at which path, what it is, what its subtopics mean.

Pure Python (no Home Assistant imports) so it can be validated anywhere, including the
config flow and tests. See docs/protocol.md, "Site map" and "Kinds and capabilities".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import json
from typing import Any

import yaml

from .sitemap_syntax import json_error, yaml_error

_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Kind(StrEnum):
    """What a device is."""

    LIGHT = "light"
    RGBW_LIGHT = "rgbw_light"
    SHADE = "shade"
    MOTION = "motion"
    STEINEL = "steinel"
    OZONE = "ozone"


KIND_CAPABILITIES: dict[Kind, tuple[str, ...]] = {
    Kind.LIGHT: ("brightness",),
    Kind.RGBW_LIGHT: ("brightness", "color"),
    Kind.SHADE: ("position", "motion"),
    Kind.MOTION: ("motion",),
    Kind.STEINEL: ("illuminance", "temperature", "humidity", "motion"),
    Kind.OZONE: ("ozone",),
}

# What a user reads as the device's model when the device does not name its own.
KIND_MODELS: dict[Kind, str] = {
    Kind.LIGHT: "Dimmable light",
    Kind.RGBW_LIGHT: "RGBW light",
    Kind.SHADE: "Shade",
    Kind.MOTION: "Motion sensor",
    Kind.STEINEL: "Steinel multisensor",
    Kind.OZONE: "Ozone sensor",
}

# Capabilities HA may write to, per kind. Everything else is a sensor.
COMMANDABLE: dict[Kind, frozenset[str]] = {
    Kind.LIGHT: frozenset({"brightness"}),
    Kind.RGBW_LIGHT: frozenset({"brightness", "color"}),
    Kind.SHADE: frozenset({"position", "motion"}),
    Kind.MOTION: frozenset(),
    Kind.STEINEL: frozenset(),
    Kind.OZONE: frozenset(),
}

RESERVED_LEVELS = frozenset({"availability", "announce", "ask", "status", "command"})

DEVICE_KEYS = frozenset({"name", "kind", "area", "subtopics", "model", "sw_version"})
SITE_KEYS = frozenset({"subtopics", "devices"})


class SiteMapError(ValueError):
    """A site map (or announcement) problem, with the field it is about.

    `error` is a translation key of the config flow's errors; `path` names the device (or
    a site-level location such as `subtopics`), `detail` says what is wrong.
    """

    def __init__(self, error: str, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.error = error
        self.path = path
        self.detail = detail

    @property
    def placeholders(self) -> dict[str, str]:
        """Description placeholders for the config flow."""
        return {"path": self.path, "detail": self.detail}


class SiteMapProblems(SiteMapError):
    """Every problem of a site map at once; reads as its first one where one is expected."""

    def __init__(self, problems: list[SiteMapError]) -> None:
        first = problems[0]
        super().__init__(first.error, first.path, first.detail)
        self.problems = problems


def _raise_all(problems: list[SiteMapError]) -> None:
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise SiteMapProblems(problems)


def all_problems(error: SiteMapError) -> list[SiteMapError]:
    return list(error.problems) if isinstance(error, SiteMapProblems) else [error]


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One logical device: its path, name, kind and subtopic meanings."""

    path: str
    name: str
    kind: Kind
    area: str | None = None
    # subtopic code -> capability; complete for every capability of the kind.
    subtopics: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None
    sw_version: str | None = None

    @property
    def capabilities(self) -> tuple[str, ...]:
        """The capabilities of this device's kind."""
        return KIND_CAPABILITIES[self.kind]

    def capability_for(self, subtopic: str) -> str | None:
        """The capability a subtopic carries, or None when it means nothing here."""
        return self.subtopics.get(subtopic)

    def subtopic_for(self, capability: str) -> str:
        """The subtopic HA publishes a capability's command on."""
        for code, cap in self.subtopics.items():
            if cap == capability and code != capability:
                return code
        return capability

    @property
    def model_name(self) -> str:
        """The device's own model when it gives one, else its kind in words."""
        return self.model or KIND_MODELS[self.kind]

    def is_commandable(self, capability: str) -> bool:
        """Whether HA may write to this capability."""
        return capability in COMMANDABLE[self.kind]


@dataclass(frozen=True, slots=True)
class SiteMap:
    """A parsed, validated site map."""

    devices: Mapping[str, DeviceSpec] = field(default_factory=dict)
    subtopics: Mapping[str, str] = field(default_factory=dict)


def validate_path(path: object) -> str:
    """Return a device path, or raise SiteMapError for `+`, `#` or empty levels."""
    if isinstance(path, int) and not isinstance(path, bool):
        path = str(path)  # YAML reads a one-level path such as `42` as a number
    if not isinstance(path, str) or not path:
        raise SiteMapError("invalid_path", str(path), "the device path is empty")
    if "+" in path or "#" in path:
        raise SiteMapError("invalid_path", path, "wildcards (+ or #) are not allowed")
    if any(not level for level in path.split("/")):
        raise SiteMapError("invalid_path", path, "the path has an empty level")
    return path


def _validate_subtopics(where: str, raw: object, kind: Kind | None) -> dict[str, str]:
    """Validate a `code: capability` mapping (kind None: site-wide defaults)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SiteMapError("invalid_structure", where, "subtopics must be a mapping")
    known = set(KIND_CAPABILITIES[kind]) if kind else set().union(*KIND_CAPABILITIES.values())
    result: dict[str, str] = {}
    for code, capability in raw.items():
        code_s = str(code)
        if not code_s or "/" in code_s or "+" in code_s or "#" in code_s:
            raise SiteMapError("invalid_subtopic", where, f"subtopic '{code_s}' is not one level")
        if code_s in RESERVED_LEVELS:
            raise SiteMapError(
                "reserved_subtopic", where, f"subtopic '{code_s}' is a reserved name"
            )
        if not isinstance(capability, str) or capability not in known:
            what = f"kind {kind.value}" if kind else "any kind"
            raise SiteMapError(
                "invalid_capability",
                where,
                f"capability '{capability}' of subtopic '{code_s}' is not valid for {what}",
            )
        if capability in result.values():
            raise SiteMapError(
                "duplicate_capability",
                where,
                f"capability '{capability}' is mapped by more than one subtopic",
            )
        result[code_s] = capability
    return result


def _effective_subtopics(
    kind: Kind, site_defaults: Mapping[str, str], own: Mapping[str, str]
) -> dict[str, str]:
    """Site defaults valid for the kind, overridden by the device's own codes.

    The capability's own name always works as a subtopic too.
    """
    caps = KIND_CAPABILITIES[kind]
    result = {cap: cap for cap in caps}
    overridden = set(own.values())
    for code, cap in site_defaults.items():
        if cap in caps and cap not in overridden:
            result[code] = cap
    result.update(own)
    return result


def _device_kind(path: str, raw: Mapping[Any, Any], problems: list[SiteMapError]) -> Kind | None:
    kind_raw = raw.get("kind")
    try:
        return Kind(str(kind_raw))
    except ValueError:
        problems.append(
            SiteMapError(
                "unknown_kind",
                path,
                f"kind '{kind_raw}' is unknown (one of {', '.join(k.value for k in Kind)})",
            )
        )
        return None


def _device_texts(
    path: str, raw: Mapping[Any, Any], problems: list[SiteMapError]
) -> dict[str, str | None]:
    """Name, area, model and sw_version; every problem recorded."""
    texts: dict[str, str | None] = {}
    for key in sorted(str(key) for key in raw if key not in DEVICE_KEYS):
        problems.append(SiteMapError("invalid_structure", path, f"unknown field '{key}'"))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(SiteMapError("empty_name", path, "the device has no name"))
    texts["name"] = name.strip() if isinstance(name, str) else None
    area = raw.get("area")
    if area is not None and (not isinstance(area, str) or not area.strip()):
        problems.append(SiteMapError("invalid_structure", path, "area must be a non-empty text"))
    texts["area"] = area.strip() if isinstance(area, str) else None
    for key in ("model", "sw_version"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str | int | float):
            problems.append(SiteMapError("invalid_structure", path, f"{key} must be a text"))
        texts[key] = None if value is None else str(value)
    return texts


def parse_device(
    path: object, raw: object, site_defaults: Mapping[str, str] | None = None
) -> DeviceSpec:
    """Validate one device entry (from the site map or an announcement), all problems at once."""
    path_s = validate_path(path)
    if not isinstance(raw, Mapping):
        raise SiteMapError("invalid_structure", path_s, "a device must be a mapping")
    problems: list[SiteMapError] = []
    texts = _device_texts(path_s, raw, problems)
    kind = _device_kind(path_s, raw, problems)
    own: dict[str, str] = {}
    if kind is not None:
        try:
            own = _validate_subtopics(path_s, raw.get("subtopics"), kind)
        except SiteMapError as err:
            problems.append(err)
    _raise_all(problems)
    assert kind is not None
    assert texts["name"] is not None
    return DeviceSpec(
        path=path_s,
        name=texts["name"],
        kind=kind,
        area=texts["area"],
        subtopics=_effective_subtopics(kind, site_defaults or {}, own),
        model=texts["model"],
        sw_version=texts["sw_version"],
    )


def load_text(text: str) -> object:
    """Parse JSON or YAML text (JSON is a subset of YAML, JSON errors read better)."""
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as err:
            raise SiteMapError("invalid_syntax", "site map", json_error(err)) from None
    try:
        # libyaml where PyYAML has it: a 10,000-device site map parses at every set-up,
        # in the event loop, and the pure-Python loader takes seconds over it
        return yaml.load(stripped, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        pass
    try:  # the pure-Python loader's errors are the ones yaml_error words
        return yaml.safe_load(stripped)
    except yaml.YAMLError as err:
        raise SiteMapError("invalid_syntax", "site map", yaml_error(err)) from None


def parse_site_map(text: str) -> SiteMap:
    """Parse and validate site map text; raise SiteMapError naming the field."""
    data: Any = load_text(text)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SiteMapError("invalid_structure", "site map", "the site map must be a mapping")
    unknown = sorted(str(key) for key in data if key not in SITE_KEYS)
    if unknown:
        raise SiteMapError("invalid_structure", "site map", f"unknown field '{unknown[0]}'")
    defaults = _validate_subtopics("subtopics", data.get("subtopics"), None)
    raw_devices = data.get("devices") or {}
    if not isinstance(raw_devices, Mapping):
        raise SiteMapError("invalid_structure", "devices", "devices must be a mapping")
    devices: dict[str, DeviceSpec] = {}
    problems: list[SiteMapError] = []
    for path, raw in raw_devices.items():
        try:
            spec = parse_device(path, raw, defaults)
        except SiteMapError as err:
            problems.extend(all_problems(err))
        else:
            devices[spec.path] = spec
    _raise_all(problems)
    return SiteMap(devices=devices, subtopics=defaults)


def parse_announcement(
    path: str, payload: Mapping[str, Any], site_defaults: Mapping[str, str] | None = None
) -> DeviceSpec:
    """Validate a device's retained self-announcement."""
    return parse_device(path, payload, site_defaults)
