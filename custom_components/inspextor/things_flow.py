"""Config flow steps of a things_sync site: its site file, entered and edited in options."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig
import voluptuous as vol

from .const import CONF_ENTRY_TYPE, CONF_SITE_FILE, ENTRY_TYPE_THINGS
from .things_sync.site import SiteError, parse_site

SITE_FILE_SELECTOR = TextSelector(TextSelectorConfig(multiline=True))
NO_PROBLEM = {"where": "", "detail": ""}
DEFAULT_THINGS_NAME = "things_sync"


def check_site_file(
    user_input: dict[str, Any], errors: dict[str, str], placeholders: dict[str, str]
) -> str | None:
    """The site's name when the file is valid; else a field error naming the culprit."""
    try:
        return parse_site(user_input.get(CONF_SITE_FILE, "")).name
    except SiteError as err:
        errors[CONF_SITE_FILE] = err.error
        placeholders.update(err.placeholders)
        return None


class ThingsConfigFlowSteps(ConfigFlow):
    """The `things_sync` step of the user menu (mixed into the integration's flow)."""

    async def async_step_things_sync(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name and site file; one entry per site name."""
        errors: dict[str, str] = {}
        placeholders = dict(NO_PROBLEM)
        if user_input is not None and check_site_file(user_input, errors, placeholders):
            title = str(user_input.get(CONF_NAME, "")).strip() or DEFAULT_THINGS_NAME
            await self.async_set_unique_id(f"{ENTRY_TYPE_THINGS}:{title}")
            self._abort_if_unique_id_configured()
            return self.async_create_entry(
                title=title,
                data={CONF_ENTRY_TYPE: ENTRY_TYPE_THINGS},
                options={CONF_SITE_FILE: user_input[CONF_SITE_FILE]},
            )
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME, default=DEFAULT_THINGS_NAME): str,
                vol.Required(CONF_SITE_FILE): SITE_FILE_SELECTOR,
            }
        )
        return self.async_show_form(
            step_id="things_sync",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )


class ThingsOptionsFlow(OptionsFlow):
    """Edit the site file (the entry reloads)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The only step (named so its texts are the site file's)."""
        return await self.async_step_things_sync(user_input)

    async def async_step_things_sync(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The site file, validated."""
        errors: dict[str, str] = {}
        placeholders = dict(NO_PROBLEM)
        if user_input is not None and check_site_file(user_input, errors, placeholders):
            return self.async_create_entry(data={CONF_SITE_FILE: user_input[CONF_SITE_FILE]})
        schema = vol.Schema({vol.Required(CONF_SITE_FILE): SITE_FILE_SELECTOR})
        return self.async_show_form(
            step_id="things_sync",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(self.config_entry.options)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
