"""The InspeXtor integration: InspeXtor devices on the local MQTT broker as HA entities."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .bridge_api import BridgeClient, BridgeError
from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .bridge_repairs import async_delete_issues
from .const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_EXPOSED_ENTITIES,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_RETRIES,
    DOMAIN,
    MANUFACTURER,
    entry_type,
    is_bridge_entry,
    is_site_entry,
)
from .services import async_setup_services
from .site import InspextorSite, SiteConfigEntry
from .sitemap import SiteMapError, parse_site_map

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.COVER,
    Platform.LIGHT,
    Platform.SENSOR,
]
BRIDGE_PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services (once, for every entry)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: SiteConfigEntry | BridgeConfigEntry
) -> bool:
    """Set up an entry; `entry_type` says which kind: a site or the cloud bridge."""
    if is_site_entry(entry):
        return await _async_setup_site(hass, entry)
    if is_bridge_entry(entry):
        return await _async_setup_bridge(hass, entry)
    raise ConfigEntryError(
        translation_domain=DOMAIN,
        translation_key="unknown_entry_type",
        translation_placeholders={"entry_type": entry_type(entry)},
    )


async def _async_setup_site(hass: HomeAssistant, entry: SiteConfigEntry) -> bool:
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
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, base)},
        manufacturer=MANUFACTURER,
        model="Site",
        name=entry.title,
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(site.async_stop)
    await site.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


async def _async_setup_bridge(hass: HomeAssistant, entry: BridgeConfigEntry) -> bool:
    """Poll the bridge's status and tell it which entities the cloud may control."""
    client = BridgeClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        int(entry.data[CONF_PORT]),
        entry.data[CONF_TOKEN],
    )
    coordinator = BridgeCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    # The integration is the source of truth for the allow-list (none until the user picks).
    try:
        await client.set_exposure(list(entry.options.get(CONF_EXPOSED_ENTITIES, [])))
    except BridgeError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="exposure_failed",
            translation_placeholders={"reason": str(err)},
        ) from err
    coordinator.keep_exposure = True
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, BRIDGE_PLATFORMS)
    return True


async def _async_update_listener(hass: HomeAssistant, entry: SiteConfigEntry) -> None:
    """Options changed (site map, timeout, retries): reload the site.

    Other updates (title, discovery keys added by a repeated MQTT discovery) keep it.
    """
    if dict(entry.options) != entry.runtime_data.options:
        await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(
    hass: HomeAssistant, entry: SiteConfigEntry | BridgeConfigEntry
) -> bool:
    """Unload a site or the bridge."""
    platforms = BRIDGE_PLATFORMS if is_bridge_entry(entry) else PLATFORMS
    return await hass.config_entries.async_unload_platforms(entry, platforms)


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A removed bridge entry takes its repair issues with it."""
    if is_bridge_entry(entry):
        async_delete_issues(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant,
    entry: SiteConfigEntry | BridgeConfigEntry,
    device_entry: dr.DeviceEntry,
) -> bool:
    """Allow removing a device only when the site map and announcements no longer have it.

    The bridge's one device lives as long as its entry.
    """
    if not is_site_entry(entry):
        return False
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
