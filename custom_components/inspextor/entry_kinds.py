"""The kinds of config entry this domain holds, and what each one has and does.

One domain holds several kinds of entries, told apart by `entry_type` in the entry's data
(const.py): an MQTT site (`site`), a things_sync site (`things_sync`, controllers over
UDP, things_*.py) and the cloud bridge (`bridge`). `ENTRY_KINDS` maps each
`entry_type` to an `EntryKind`: how the entry is set up, which platforms it has and which
entity set-up each platform runs, its diagnostics and its removal. Nothing else in the
integration branches on the kind: `__init__.py` and `diagnostics.py` look the kind up
here, and every platform module (`light.py`, `sensor.py`, ...) is one line,
`async_setup_entry = platform_setup(Platform.X)`.

Adding a kind (for example a things_sync UDP site):

1. Pick its `entry_type` value (`ENTRY_TYPE_...` in const.py; the config flow stores it
   in the entry's data) and its runtime data class, with the alias
   `type ThingsConfigEntry = ConfigEntry[ThingsSite]` beside that class.
2. Write its modules, named `<kind>_<role>.py`: its set-up (`async_setup(hass, entry)`
   sets `entry.runtime_data`; an optional `async_started` runs once the platforms are
   set up), its entities per platform, each exposed as a `PlatformSetup`: a callback
   `(hass, entry, async_add_entities) -> None`, and its diagnostics.
3. Add one `EntryKind[ThingsConfigEntry](...)` to `ENTRY_KINDS` below. A platform the
   integration did not have yet (`switch`, `number`) also needs its platform module,
   the same one line: `async_setup_entry = platform_setup(Platform.SWITCH)` plus
   `PARALLEL_UPDATES`.
4. The config flow (config_flow.py) gets the steps that create the entry and, if it has
   options, its options flow.

`tests/components/inspextor/test_entry_kinds.py` checks that every platform of every kind
has its platform module and that every platform module serves at least one kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import (
    bridge_binary_sensor,
    bridge_button,
    bridge_sensor,
    site_binary_sensor,
    site_cover,
    site_light,
    site_sensor,
    things_binary_sensor,
    things_button,
    things_number,
    things_sensor,
    things_switch,
)
from .bridge_coordinator import BridgeConfigEntry
from .bridge_diagnostics import BRIDGE_TO_REDACT, bridge_diagnostics
from .bridge_entry import async_setup_bridge
from .bridge_repairs import async_delete_issues
from .const import DOMAIN, ENTRY_TYPE_BRIDGE, ENTRY_TYPE_SITE, ENTRY_TYPE_THINGS, entry_type
from .entity import site_platform
from .site import SiteConfigEntry
from .site_diagnostics import TO_REDACT, device_entry_diagnostics, entry_diagnostics
from .site_entry import async_setup_site, async_start_site, remove_site_device
from .stale_devices import forget_site
from .things_diagnostics import THINGS_TO_REDACT, things_diagnostics
from .things_entry import async_setup_things, async_start_things, remove_things_device
from .things_site import ThingsConfigEntry

type PlatformSetup[E: ConfigEntry[Any]] = Callable[
    [HomeAssistant, E, AddConfigEntryEntitiesCallback], None
]


def _keep_device(entry: ConfigEntry[Any], device: DeviceEntry) -> bool:
    return False


@dataclass(frozen=True, kw_only=True)
class EntryKind[E: ConfigEntry[Any]]:
    """What one kind of entry has and does; `E` is its typed config entry."""

    # Sets `entry.runtime_data`; raises ConfigEntryNotReady / ConfigEntryError.
    async_setup: Callable[[HomeAssistant, E], Awaitable[None]]
    # Platform -> its entity set-up; the platforms are forwarded in this order.
    platforms: Mapping[Platform, PlatformSetup[E]]
    # Runs once the platforms are set up (start listening, register update listeners).
    async_started: Callable[[HomeAssistant, E], Awaitable[None]] | None = None
    # Diagnostics beside the entry's title, data and options; `redact` applies to all.
    diagnostics: Callable[[E], dict[str, Any]]
    # A device's diagnostics; None: the entry's.
    device_diagnostics: Callable[[E, DeviceEntry], dict[str, Any]] | None = None
    redact: frozenset[str]
    # May the user delete this device? (HA's async_remove_config_entry_device)
    remove_device: Callable[[E, DeviceEntry], bool] = _keep_device
    # The entry was deleted: clean up what outlives it (repair issues).
    removed: Callable[[HomeAssistant, E], None] | None = None


ENTRY_KINDS: Final[Mapping[str, EntryKind[Any]]] = {
    ENTRY_TYPE_SITE: EntryKind[SiteConfigEntry](
        async_setup=async_setup_site,
        platforms={
            Platform.BINARY_SENSOR: site_platform(site_binary_sensor.entities),
            Platform.COVER: site_platform(site_cover.entities),
            Platform.LIGHT: site_platform(site_light.entities),
            Platform.SENSOR: site_platform(site_sensor.entities),
        },
        async_started=async_start_site,
        diagnostics=entry_diagnostics,
        device_diagnostics=device_entry_diagnostics,
        redact=TO_REDACT,
        remove_device=remove_site_device,
        removed=forget_site,
    ),
    ENTRY_TYPE_BRIDGE: EntryKind[BridgeConfigEntry](
        async_setup=async_setup_bridge,
        platforms={
            Platform.BINARY_SENSOR: bridge_binary_sensor.add_bridge_binary_sensors,
            Platform.BUTTON: bridge_button.add_bridge_buttons,
            Platform.SENSOR: bridge_sensor.add_bridge_sensors,
        },
        diagnostics=bridge_diagnostics,
        redact=BRIDGE_TO_REDACT,
        removed=async_delete_issues,
    ),
    ENTRY_TYPE_THINGS: EntryKind[ThingsConfigEntry](
        async_setup=async_setup_things,
        platforms={
            Platform.BINARY_SENSOR: things_binary_sensor.add_things_binary_sensors,
            Platform.BUTTON: things_button.add_things_buttons,
            Platform.NUMBER: things_number.add_things_numbers,
            Platform.SENSOR: things_sensor.add_things_sensors,
            Platform.SWITCH: things_switch.add_things_switches,
        },
        async_started=async_start_things,
        diagnostics=things_diagnostics,
        redact=THINGS_TO_REDACT,
        remove_device=remove_things_device,
    ),
}


def kind_of(entry: ConfigEntry[Any]) -> EntryKind[Any] | None:
    """The entry's kind; None for an `entry_type` this version does not know."""
    return ENTRY_KINDS.get(entry_type(entry))


def require_kind(entry: ConfigEntry[Any]) -> EntryKind[Any]:
    """The entry's kind; an unknown `entry_type` is a set-up error the user sees."""
    if (kind := kind_of(entry)) is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_entry_type",
            translation_placeholders={"entry_type": entry_type(entry)},
        )
    return kind


def platform_setup(
    platform: Platform,
) -> Callable[[HomeAssistant, ConfigEntry[Any], AddConfigEntryEntitiesCallback], Awaitable[None]]:
    """A platform module's `async_setup_entry`: the entities of the entry's kind."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        require_kind(entry).platforms[platform](hass, entry, async_add_entities)

    async_setup_entry.__doc__ = f"Set up the {platform.value} entities of the entry's kind."
    return async_setup_entry
