"""Set-up of a things_sync site entry: parse the site file, bind the port, ask everyone."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .const import CONF_SITE_FILE, DOMAIN
from .things_site import ThingsConfigEntry, ThingsSite
from .things_sync.site import SiteError, parse_site


async def async_setup_things(hass: HomeAssistant, entry: ThingsConfigEntry) -> None:
    """The site's engine, before the platforms add its entities."""
    try:
        site = parse_site(entry.options.get(CONF_SITE_FILE, ""))
    except SiteError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_site_file",
            translation_placeholders=err.placeholders,
        ) from err
    entry.runtime_data = ThingsSite(hass, str(entry.unique_id), site, dict(entry.options))


async def async_start_things(hass: HomeAssistant, entry: ThingsConfigEntry) -> None:
    """Once the entities exist: bind the port, ask every controller, reload on new options."""
    things = entry.runtime_data
    try:
        await things.async_start()
    except OSError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="things_port_unavailable",
            translation_placeholders={"port": str(things.site.ha_port), "reason": str(err)},
        ) from err
    entry.async_on_unload(things.async_stop)
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))


async def _async_update_listener(hass: HomeAssistant, entry: ThingsConfigEntry) -> None:
    """A new site file: reload."""
    if dict(entry.options) != entry.runtime_data.options:
        await hass.config_entries.async_reload(entry.entry_id)


def remove_things_device(entry: ThingsConfigEntry, device_entry: dr.DeviceEntry) -> bool:
    """A controller's device may go once the site file no longer names the controller."""
    things = entry.runtime_data
    prefix = f"{things.unique}:"
    for domain, identifier in device_entry.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            return identifier.removeprefix(prefix) not in things.site.controllers
    return False
