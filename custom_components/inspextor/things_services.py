"""Services of things_sync sites: role commands, cumulative data, climate (with answers)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN, ENTRY_TYPE_THINGS, entry_type
from .things_site import ThingsSite

SERVICE_THINGS_COMMAND = "things_command"
SERVICE_THINGS_CUM = "things_cum"
SERVICE_THINGS_CLIM = "things_clim"
ATTR_SITE = "config_entry_id"

_SITE = {vol.Optional(ATTR_SITE): cv.string}
COMMAND_SCHEMA = vol.Schema(
    _SITE
    | {
        vol.Optional("controller"): cv.string,
        vol.Optional("role"): cv.string,
        vol.Required("command"): cv.string,
        vol.Optional("args", default=list): list,
        vol.Optional("kwargs", default=dict): dict,
    }
)
CUM_SCHEMA = vol.Schema(_SITE | {vol.Required("thing"): cv.string})
CLIM_SCHEMA = vol.Schema(
    _SITE
    | {
        vol.Optional("controller"): cv.string,
        vol.Optional("role", default="climate"): cv.string,
        vol.Optional("settings"): dict,
    }
)


def _sites(hass: HomeAssistant, entry_id: str | None) -> list[ThingsSite]:
    entries = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry_type(entry) == ENTRY_TYPE_THINGS
        and entry.state is ConfigEntryState.LOADED
        and entry_id in (None, entry.entry_id)
    ]
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="things_no_site")
    return [entry.runtime_data for entry in entries]


def _site_with(hass: HomeAssistant, data: dict[str, Any], key: str, section: str) -> ThingsSite:
    """The site whose file names data[key] in `section`, else the first one."""
    sites = _sites(hass, data.get(ATTR_SITE))
    name = data.get(key)
    for site in sites:
        if name and name in getattr(site.site, section):
            return site
    return sites[0]


async def _command(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    data = dict(call.data)
    site = _site_with(hass, data, "controller", "controllers")
    controller = site.controller_for(data.get("controller"), data.get("role"))
    role = data.get("role") or next(iter(site.site.controllers[controller].roles), "")
    result = await site.async_command(
        controller, role, data["command"], data["args"], data["kwargs"]
    )
    return {"controller": controller, "role": role, "result": result}


async def _cum(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    site = _site_with(hass, dict(call.data), "thing", "things")
    thing = call.data["thing"]
    return {"thing": thing, "cum": await site.async_cum(thing)}


async def _clim(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    data = dict(call.data)
    site = _site_with(hass, data, "controller", "controllers")
    controller = site.controller_for(data.get("controller"), data.get("role"))
    result = await site.async_clim(controller, data.get("settings"))
    return {"controller": controller, "result": result}


def async_setup_things_services(hass: HomeAssistant) -> None:
    """Register the three services."""

    async def command(call: ServiceCall) -> ServiceResponse:
        return await _command(hass, call)

    async def cum(call: ServiceCall) -> ServiceResponse:
        return await _cum(hass, call)

    async def clim(call: ServiceCall) -> ServiceResponse:
        return await _clim(hass, call)

    hass.services.async_register(
        DOMAIN, SERVICE_THINGS_COMMAND, command, COMMAND_SCHEMA, SupportsResponse.OPTIONAL
    )
    hass.services.async_register(DOMAIN, SERVICE_THINGS_CUM, cum, CUM_SCHEMA, SupportsResponse.ONLY)
    hass.services.async_register(
        DOMAIN, SERVICE_THINGS_CLIM, clim, CLIM_SCHEMA, SupportsResponse.OPTIONAL
    )
