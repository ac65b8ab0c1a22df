"""Config and options flow steps of the cloud bridge entry (the add-on's local API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
import voluptuous as vol

from .bridge_api import BridgeAuthError, BridgeClient, BridgeError
from .bridge_coordinator import BridgeCoordinator, bridge_id
from .const import (
    BRIDGE_NAME,
    CONF_ENTRY_TYPE,
    CONF_EXPOSED_ENTITIES,
    DEFAULT_BRIDGE_PORT,
    ENTRY_TYPE_BRIDGE,
)
from .exposure_choices import exposure_selector

CONF_CONFIRM = "confirm"
# The bridge run beside Home Assistant (`python -m cloud_bridge`); the add-on is discovered.
SUGGESTED_HOST = "127.0.0.1"
TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _bridge_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST): str,
            vol.Required(CONF_PORT, default=DEFAULT_BRIDGE_PORT): cv.port,
            vol.Required(CONF_TOKEN): TOKEN_SELECTOR,
        }
    )


def _connection(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_HOST: str(user_input[CONF_HOST]).strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_TOKEN: str(user_input[CONF_TOKEN]).strip(),
    }


async def _fetch_status(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, Any]:
    client = BridgeClient(
        async_get_clientsession(hass), data[CONF_HOST], data[CONF_PORT], data[CONF_TOKEN]
    )
    return await client.status()


async def _validate(
    hass: HomeAssistant, data: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any] | None:
    """The bridge's status, or None with the error recorded (a refused token on its field)."""
    try:
        return await _fetch_status(hass, data)
    except BridgeAuthError:
        errors[CONF_TOKEN] = "invalid_auth"
    except BridgeError:
        errors["base"] = "cannot_connect"
    return None


class BridgeConfigFlowSteps(ConfigFlow):
    """The bridge's steps of the integration's config flow (mixed into it)."""

    _bridge_data: dict[str, Any]
    _addon_name: str = ""

    async def async_step_bridge(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Connect to a bridge by host, port and token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _connection(user_input)
            if (status := await _validate(self.hass, data, errors)) is not None:
                await self.async_set_unique_id(bridge_id(status))
                self._abort_if_unique_id_configured()
                return self._create_bridge_entry(data)
        return self.async_show_form(
            step_id="bridge",
            data_schema=self.add_suggested_values_to_schema(
                _bridge_schema(), user_input or {CONF_HOST: SUGGESTED_HOST}
            ),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced its API; a known bridge gets the new address and token."""
        config = discovery_info.config
        data = _connection(
            {
                CONF_HOST: config.get(CONF_HOST, ""),
                CONF_PORT: config.get(CONF_PORT, DEFAULT_BRIDGE_PORT),
                CONF_TOKEN: config.get(CONF_TOKEN, ""),
            }
        )
        errors: dict[str, str] = {}
        if (status := await _validate(self.hass, data, errors)) is None:
            return self.async_abort(reason=next(iter(errors.values())))
        await self.async_set_unique_id(bridge_id(status))
        self._abort_if_unique_id_configured(updates=data)
        self._bridge_data = data
        self._addon_name = discovery_info.name
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the discovered bridge."""
        if user_input is not None:
            return self._create_bridge_entry(self._bridge_data)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="hassio_confirm", description_placeholders={"addon": self._addon_name}
        )

    def _create_bridge_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        return self.async_create_entry(
            title=BRIDGE_NAME,
            data={CONF_ENTRY_TYPE: ENTRY_TYPE_BRIDGE, **data},
            options={CONF_EXPOSED_ENTITIES: []},
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The bridge refused the token (a new api_token in the add-on)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter the bridge's new token."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _connection({**entry.data, CONF_TOKEN: user_input[CONF_TOKEN]})
            if (status := await _validate(self.hass, data, errors)) is not None:
                await self.async_set_unique_id(bridge_id(status))
                self._abort_if_unique_id_mismatch(reason="wrong_bridge")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: data[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR}),
            errors=errors,
        )

    async def async_reconfigure_bridge(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """New host, port or token of the same bridge."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _connection(user_input)
            if (status := await _validate(self.hass, data, errors)) is not None:
                await self.async_set_unique_id(bridge_id(status))
                self._abort_if_unique_id_mismatch(reason="wrong_bridge")
                return self.async_update_reload_and_abort(entry, data_updates=data)
        suggested = user_input or {key: entry.data[key] for key in (CONF_HOST, CONF_PORT)}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(_bridge_schema(), suggested),
            errors=errors,
        )


class BridgeOptionsFlow(OptionsFlow):
    """What the cloud may control, and deregistration behind a confirmation."""

    def _coordinator(self) -> BridgeCoordinator | None:
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return None
        coordinator: BridgeCoordinator = self.config_entry.runtime_data
        return coordinator

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Open the bridge's menu (its own step id, so its texts are not the site's)."""
        return await self.async_step_bridge_menu(user_input)

    async def async_step_bridge_menu(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose what to do."""
        if self._coordinator() is None:
            return self.async_abort(reason="bridge_not_loaded")
        return self.async_show_menu(step_id="bridge_menu", menu_options=["exposure", "deregister"])

    async def async_step_exposure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The entities the cloud may control (none by default); saved on the bridge first."""
        errors: dict[str, str] = {}
        coordinator = self._coordinator()
        if coordinator is None:
            return self.async_abort(reason="bridge_not_loaded")
        if user_input is not None:
            entities = list(user_input.get(CONF_EXPOSED_ENTITIES, []))
            coordinator.chosen_exposure = entities
            try:
                await coordinator.client.set_exposure(entities)
            except BridgeError:
                coordinator.chosen_exposure = None
                errors["base"] = "cannot_connect"
            else:
                return self.async_create_entry(
                    data={**self.config_entry.options, CONF_EXPOSED_ENTITIES: entities}
                )
        chosen = list((user_input or self.config_entry.options).get(CONF_EXPOSED_ENTITIES, []))
        schema = vol.Schema(
            {
                vol.Optional(CONF_EXPOSED_ENTITIES, default=[]): exposure_selector(
                    self.hass, self.config_entry.entry_id, chosen
                )
            }
        )
        return self.async_show_form(
            step_id="exposure",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
        )

    async def async_step_deregister(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Deregister this home from the cloud, only when the box is checked."""
        errors: dict[str, str] = {}
        coordinator = self._coordinator()
        if coordinator is None:
            return self.async_abort(reason="bridge_not_loaded")
        if user_input is not None:
            if not user_input.get(CONF_CONFIRM):
                errors[CONF_CONFIRM] = "confirm_required"
            else:
                try:
                    await coordinator.client.action("deregister")
                except BridgeError as err:
                    return self.async_abort(
                        reason="deregister_failed", description_placeholders={"reason": str(err)}
                    )
                finally:
                    await coordinator.async_request_refresh()
                return self.async_abort(reason="deregistered")
        return self.async_show_form(
            step_id="deregister",
            data_schema=vol.Schema({vol.Required(CONF_CONFIRM, default=False): bool}),
            errors=errors,
        )
