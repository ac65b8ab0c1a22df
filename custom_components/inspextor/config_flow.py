"""Config flow: one entry per site (base topic) or cloud bridge; their options.

The user step is a menu: a site (here) or the cloud bridge (bridge_flow.py).
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    ObjectSelector,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import voluptuous as vol
import yaml

from .bridge_flow import BridgeConfigFlowSteps, BridgeOptionsFlow
from .const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_ENTRY_TYPE,
    CONF_RETRIES,
    CONF_SITE_MAP,
    CONF_THRASH_HOLD,
    DEFAULT_BASE_TOPIC,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_NAME,
    DEFAULT_RETRIES,
    DOMAIN,
    ENTRY_TYPE_SITE,
    ENTRY_TYPE_THINGS,
    entry_type,
    is_bridge_entry,
    is_site_entry,
)
from .sitemap import SiteMapError, all_problems, parse_site_map, validate_path
from .things_flow import ThingsConfigFlowSteps, ThingsOptionsFlow

# HA's YAML editor (monospace, line numbers, checks the syntax as you type).
SITE_MAP_SELECTOR = ObjectSelector()
NO_PROBLEM = {"path": "", "detail": "", "site": "", "count": "", "problems": ""}
MAX_SHOWN_PROBLEMS = 5


def site_map_text(value: object) -> str:
    """The stored site map text: typed text as is, the YAML editor's mapping as YAML."""
    if value is None or value == {}:
        return ""
    if isinstance(value, str):
        return value
    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True))


def _editor_value(text: str) -> object:
    """What the YAML editor shows for stored text (text it cannot show as a mapping as is)."""
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text
    return value if isinstance(value, dict) else text or None


def _suggested(values: dict[str, Any]) -> dict[str, Any]:
    if isinstance(text := values.get(CONF_SITE_MAP), str):
        return values | {CONF_SITE_MAP: _editor_value(text)}
    return values


def _site_schema(base_topic: str = DEFAULT_BASE_TOPIC) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_NAME, default=DEFAULT_NAME): str,
            vol.Required(CONF_BASE_TOPIC, default=base_topic): str,
        }
    )


def _sites_by_topic(hass: HomeAssistant) -> dict[str, ConfigEntry]:
    return {
        str(entry.unique_id): entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if is_site_entry(entry)
    }


def _free_base_topic(hass: HomeAssistant) -> str:
    """`inspextor`, or `inspextor2`, `inspextor3`... when a site already uses it."""
    taken = _sites_by_topic(hass)
    number = 1
    while (candidate := DEFAULT_BASE_TOPIC + (str(number) if number > 1 else "")) in taken:
        number += 1
    return candidate


def _check_topic_free(
    hass: HomeAssistant, base: str, errors: dict[str, str], placeholders: dict[str, str]
) -> None:
    """A base topic another site uses is an error on the field, naming that site."""
    if (owner := _sites_by_topic(hass).get(base)) is not None:
        errors[CONF_BASE_TOPIC] = "base_topic_taken"
        placeholders["site"] = owner.title


def _options_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_SITE_MAP): SITE_MAP_SELECTOR,
            vol.Required(CONF_COMMAND_TIMEOUT, default=DEFAULT_COMMAND_TIMEOUT): NumberSelector(
                NumberSelectorConfig(
                    min=0.5, max=60, step=0.5, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(CONF_RETRIES, default=DEFAULT_RETRIES): NumberSelector(
                NumberSelectorConfig(min=0, max=10, step=1, mode=NumberSelectorMode.BOX)
            ),
        }
    )


def _check_base_topic(user_input: dict[str, Any], errors: dict[str, str]) -> str:
    """Return the normalised base topic; record an error when it is not usable."""
    base = str(user_input[CONF_BASE_TOPIC]).strip().strip("/")
    try:
        validate_path(base)
    except SiteMapError:
        errors[CONF_BASE_TOPIC] = "invalid_base_topic"
    return base


def _check_site_map(
    user_input: dict[str, Any], errors: dict[str, str], placeholders: dict[str, str]
) -> None:
    """Validate the site map; name the device path and the problem, or every problem."""
    try:
        parse_site_map(site_map_text(user_input.get(CONF_SITE_MAP)))
    except SiteMapError as err:
        problems = all_problems(err)
        placeholders.update(err.placeholders)
        if len(problems) == 1:
            errors[CONF_SITE_MAP] = err.error
            return
        errors[CONF_SITE_MAP] = "site_map_problems"
        shown = [f"{problem.path}: {problem.detail}" for problem in problems[:MAX_SHOWN_PROBLEMS]]
        if len(problems) > MAX_SHOWN_PROBLEMS:
            shown.append(f"and {len(problems) - MAX_SHOWN_PROBLEMS} more")
        placeholders.update(count=str(len(problems)), problems="; ".join(shown))


def _options(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_SITE_MAP: site_map_text(user_input.get(CONF_SITE_MAP)),
        CONF_COMMAND_TIMEOUT: float(user_input[CONF_COMMAND_TIMEOUT]),
        CONF_RETRIES: int(user_input[CONF_RETRIES]),
    }


class InspextorConfigFlow(BridgeConfigFlowSteps, ThingsConfigFlowSteps, domain=DOMAIN):
    """Set up an InspeXtor site or the cloud bridge."""

    VERSION = 1
    _discovered_base: str = DEFAULT_BASE_TOPIC

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """The options flow of a site or of the bridge."""
        if is_bridge_entry(config_entry):
            return BridgeOptionsFlow()
        if entry_type(config_entry) == ENTRY_TYPE_THINGS:
            return ThingsOptionsFlow()
        return InspextorOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An MQTT site, a things_sync site or the cloud bridge."""
        return self.async_show_menu(step_id="user", menu_options=["site", "things_sync", "bridge"])

    async def async_step_site(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name, base topic and site map of a site."""
        if not self.hass.config_entries.async_entries("mqtt"):
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        placeholders = dict(NO_PROBLEM)
        if user_input is not None:
            base = _check_base_topic(user_input, errors)
            _check_topic_free(self.hass, base, errors, placeholders)
            _check_site_map(user_input, errors, placeholders)
            if not errors:
                await self.async_set_unique_id(base)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip() or DEFAULT_NAME,
                    data={CONF_ENTRY_TYPE: ENTRY_TYPE_SITE, CONF_BASE_TOPIC: base},
                    options=_options(
                        user_input
                        | {
                            CONF_COMMAND_TIMEOUT: DEFAULT_COMMAND_TIMEOUT,
                            CONF_RETRIES: DEFAULT_RETRIES,
                        }
                    ),
                )
        schema = _site_schema(_free_base_topic(self.hass)).extend(
            {vol.Optional(CONF_SITE_MAP): SITE_MAP_SELECTOR}
        )
        return self.async_show_form(
            step_id="site",
            data_schema=self.add_suggested_values_to_schema(schema, _suggested(user_input or {})),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_mqtt(self, discovery_info: MqttServiceInfo) -> ConfigFlowResult:
        """A device announced itself under a base topic no site covers yet."""
        base = discovery_info.subscribed_topic.split("/", 1)[0]
        await self.async_set_unique_id(base)
        self._abort_if_unique_id_configured()
        self._discovered_base = base
        self.context["title_placeholders"] = {"base_topic": base}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the discovered site; its devices join as they announce themselves."""
        if user_input is not None:
            return self.async_create_entry(
                title=DEFAULT_NAME,
                data={CONF_ENTRY_TYPE: ENTRY_TYPE_SITE, CONF_BASE_TOPIC: self._discovered_base},
                options=_options(
                    {CONF_COMMAND_TIMEOUT: DEFAULT_COMMAND_TIMEOUT, CONF_RETRIES: DEFAULT_RETRIES}
                ),
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={"base_topic": self._discovered_base},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a site's name or base topic (registry entries follow the new topic).

        The bridge: its host, port or token.
        """
        entry = self._get_reconfigure_entry()
        if is_bridge_entry(entry):
            return await self.async_reconfigure_bridge(entry, user_input)
        if entry_type(entry) == ENTRY_TYPE_THINGS:
            return self.async_abort(reason="things_sync_in_options")
        errors: dict[str, str] = {}
        placeholders = dict(NO_PROBLEM)
        if user_input is not None:
            base = _check_base_topic(user_input, errors)
            old = entry.data[CONF_BASE_TOPIC]
            if base != old:
                _check_topic_free(self.hass, base, errors, placeholders)
            if not errors:
                if base != old:
                    await self.async_set_unique_id(base)
                    self._abort_if_unique_id_configured()
                    _migrate_registries(self.hass, entry, old, base)
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=base,
                    title=user_input[CONF_NAME].strip() or DEFAULT_NAME,
                    data_updates={CONF_BASE_TOPIC: base},
                )
        suggested = user_input or {
            CONF_NAME: entry.title,
            CONF_BASE_TOPIC: entry.data[CONF_BASE_TOPIC],
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(_site_schema(), suggested),
            errors=errors,
            description_placeholders=placeholders,
        )


def _migrate_registries(hass: HomeAssistant, entry: ConfigEntry, old: str, new: str) -> None:
    """Keep entity ids, names and areas when the base topic (part of every id) changes."""
    entities = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
        entities.async_update_entity(
            entity.entity_id, new_unique_id=_rebase(entity.unique_id, old, new)
        )
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        identifiers = {
            (domain, _rebase(ident, old, new)) if domain == DOMAIN else (domain, ident)
            for domain, ident in device.identifiers
        }
        devices.async_update_device(device.id, new_identifiers=identifiers)


def _rebase(identifier: str, old: str, new: str) -> str:
    """`old` -> `new`, `old:<path>...` -> `new:<path>...` (all our ids start so)."""
    return new if identifier == old else f"{new}:{identifier.removeprefix(f'{old}:')}"


class InspextorOptionsFlow(OptionsFlow):
    """Edit the site map, the command timeout and the retries (the entry reloads)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Open the site's form (its own step id, so its texts are not the bridge's)."""
        return await self.async_step_site_options(user_input)

    async def async_step_site_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The only form: site map, command timeout, resends."""
        errors: dict[str, str] = {}
        placeholders = dict(NO_PROBLEM)
        if user_input is not None:
            _check_site_map(user_input, errors, placeholders)
            if not errors:
                hold = bool(user_input.get(CONF_THRASH_HOLD, True))
                return self.async_create_entry(
                    data={**_options(user_input), CONF_THRASH_HOLD: hold}
                )
        # The thrash guard's hold (thrash.py) is an option of the site, on by default.
        schema = _options_schema().extend(
            {vol.Required(CONF_THRASH_HOLD, default=True): BooleanSelector()}
        )
        return self.async_show_form(
            step_id="site_options",
            data_schema=self.add_suggested_values_to_schema(
                schema, _suggested(user_input or dict(self.config_entry.options))
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
