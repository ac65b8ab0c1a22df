"""The `inspextor.send_command` service: write one capability of devices, validated."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .const import (
    ATTR_CAPABILITY,
    ATTR_VALUE,
    DOMAIN,
    SERVICE_CHECK_INTERACTIONS,
    SERVICE_SEND_COMMAND,
    is_site_entry,
)
from .interaction_monitor import DATA_MONITOR
from .site import InspextorSite
from .things_services import async_setup_things_services

SEND_COMMAND_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional(ATTR_ENTITY_ID): cv.entity_ids,
            vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
            vol.Required(ATTR_CAPABILITY): cv.string,
            vol.Required(ATTR_VALUE): object,
        }
    ),
    cv.has_at_least_one_key(ATTR_ENTITY_ID, ATTR_DEVICE_ID),
)


def _unknown(target: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_target",
        translation_placeholders={"target": target},
    )


def _loaded_site(hass: HomeAssistant, entry_ids: set[str], target: str) -> InspextorSite:
    for entry_id in entry_ids:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is not None and is_site_entry(entry):
            if entry.state is not ConfigEntryState.LOADED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="not_loaded",
                    translation_placeholders={"target": target},
                )
            return entry.runtime_data
    raise _unknown(target)


def _resolve(hass: HomeAssistant, data: dict[str, Any]) -> list[tuple[InspextorSite, str]]:
    """Map entity and device ids to (site, device path)."""
    targets: list[tuple[InspextorSite, str]] = []
    entities = er.async_get(hass)
    for entity_id in data.get(ATTR_ENTITY_ID, []):
        entity = entities.async_get(entity_id)
        if entity is None or entity.platform != DOMAIN or entity.config_entry_id is None:
            raise _unknown(entity_id)
        site = _loaded_site(hass, {entity.config_entry_id}, entity_id)
        path = entity.unique_id.removeprefix(f"{site.base}:").rpartition(":")[0]
        targets.append((site, path))
    devices = dr.async_get(hass)
    for device_id in data.get(ATTR_DEVICE_ID, []):
        device = devices.async_get(device_id)
        if device is None:
            raise _unknown(device_id)
        site = _loaded_site(hass, set(device.config_entries), device_id)
        idents = [ident for domain, ident in device.identifiers if domain == DOMAIN]
        prefix = f"{site.base}:"
        paths = [ident.removeprefix(prefix) for ident in idents if ident.startswith(prefix)]
        if not paths:
            raise _unknown(device_id)  # the site's hub device has no capabilities
        targets.append((site, paths[0]))
    return targets


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's services."""

    async def _send_command(call: ServiceCall) -> None:
        targets = _resolve(hass, dict(call.data))
        capability, value = call.data[ATTR_CAPABILITY], call.data[ATTR_VALUE]
        for site, path in targets:  # refuse the whole call before anything is sent
            site.validate_command(path, capability, value)
        await asyncio.gather(
            *(site.async_command(path, capability, value) for site, path in targets)
        )

    hass.services.async_register(
        DOMAIN, SERVICE_SEND_COMMAND, _send_command, schema=SEND_COMMAND_SCHEMA
    )

    async def _check_interactions(call: ServiceCall) -> ServiceResponse:
        """Analyse the automations now; the findings as response data."""
        monitor = hass.data[DATA_MONITOR]
        await monitor.async_refresh()
        response: dict[str, Any] = {
            "automations": len(monitor.configs),
            "findings": monitor.as_dicts(),
        }
        return cast(ServiceResponse, response)

    hass.services.async_register(
        DOMAIN,
        SERVICE_CHECK_INTERACTIONS,
        _check_interactions,
        supports_response=SupportsResponse.ONLY,
    )
    async_setup_things_services(hass)
