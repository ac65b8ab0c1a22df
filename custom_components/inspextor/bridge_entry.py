"""Set-up of a cloud bridge entry: poll the bridge, push the allow-list of exposed entities."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .bridge_api import BridgeClient, BridgeError
from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .const import CONF_EXPOSED_ENTITIES, DOMAIN


async def async_setup_bridge(hass: HomeAssistant, entry: BridgeConfigEntry) -> None:
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
