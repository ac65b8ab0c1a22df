"""Set-up of an MQTT site entry: parse the site map, start the site, reload on new options."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_RETRIES,
    DOMAIN,
    MANUFACTURER,
)
from .site import InspextorSite, SiteConfigEntry
from .sitemap import SiteMapError, parse_site_map
from .stale_devices import StaleDevices


async def async_setup_site(hass: HomeAssistant, entry: SiteConfigEntry) -> None:
    """The site and its hub device, before the platforms add the devices' entities."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_unavailable")
    try:
        site_map = parse_site_map(entry.options.get(CONF_SITE_MAP, ""))
    except SiteMapError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_site_map",
            translation_placeholders=err.placeholders,
        ) from err
    base = entry.data[CONF_BASE_TOPIC]
    site = InspextorSite(
        hass,
        entry.entry_id,
        base,
        site_map,
        timeout=float(entry.options.get(CONF_COMMAND_TIMEOUT, DEFAULT_COMMAND_TIMEOUT)),
        retries=int(entry.options.get(CONF_RETRIES, DEFAULT_RETRIES)),
    )
    site.options = dict(entry.options)
    entry.runtime_data = site
    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, base)},
        manufacturer=MANUFACTURER,
        model="Site",
        name=entry.title,
    )
    site.hub_device_id = hub.id  # HA 2026 links the site's devices to it by id


async def async_start_site(hass: HomeAssistant, entry: SiteConfigEntry) -> None:
    """Once the entities exist: subscribe, ask every device, reload on new options."""
    site = entry.runtime_data
    entry.async_on_unload(site.async_stop)
    site.stale_devices = StaleDevices(hass, entry, site)
    await site.stale_devices.async_start()
    await site.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))


async def _async_update_listener(hass: HomeAssistant, entry: SiteConfigEntry) -> None:
    """Options changed (site map, timeout, retries): reload the site.

    Other updates (title, discovery keys added by a repeated MQTT discovery) keep it.
    """
    if dict(entry.options) != entry.runtime_data.options:
        await hass.config_entries.async_reload(entry.entry_id)


def remove_site_device(entry: SiteConfigEntry, device_entry: dr.DeviceEntry) -> bool:
    """Forget a device the site map and announcements no longer have; False keeps it."""
    site = entry.runtime_data
    for domain, identifier in device_entry.identifiers:
        if domain != DOMAIN or identifier == site.base:
            continue
        path = identifier.removeprefix(f"{site.base}:")
        if path in site.site_map.devices or path in site.announced:
            return False
        site.devices.pop(path, None)
        site.states.pop(path, None)
        return True
    return False
