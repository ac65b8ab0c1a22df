"""Config flow steps of a things_sync site: its site file, entered and edited in options."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(slots=True)
class SiteFileCheck:
    """A submitted site file: valid, or the field error naming the controller or thing."""

    errors: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=lambda: dict(NO_PROBLEM))
    valid: bool = False

    @classmethod
    def of(cls, user_input: dict[str, Any] | None) -> SiteFileCheck:
        """Check what the user sent (nothing yet: not valid, no errors)."""
        check = cls()
        if user_input is None:
            return check
        try:
            parse_site(user_input.get(CONF_SITE_FILE, ""))
        except SiteError as err:
            check.errors[CONF_SITE_FILE] = err.error
            check.placeholders.update(err.placeholders)
        else:
            check.valid = True
        return check

    def show(
        self, flow: ConfigFlow | OptionsFlow, schema: vol.Schema, suggested: dict[str, Any]
    ) -> ConfigFlowResult:
        """The form again, with the errors."""
        return flow.async_show_form(
            step_id="things_sync",
            data_schema=flow.add_suggested_values_to_schema(schema, suggested),
            errors=self.errors,
            description_placeholders=self.placeholders,
        )


class ThingsConfigFlowSteps(ConfigFlow):
    """The `things_sync` step of the user menu (mixed into the integration's flow)."""

    async def async_step_things_sync(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name and site file; one entry per site name."""
        check = SiteFileCheck.of(user_input)
        if user_input is not None and check.valid:
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
        return check.show(self, schema, user_input or {})


class ThingsOptionsFlow(OptionsFlow):
    """Edit the site file (the entry reloads)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The only step (named so its texts are the site file's)."""
        return await self.async_step_things_sync(user_input)

    async def async_step_things_sync(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The site file, validated."""
        check = SiteFileCheck.of(user_input)
        if user_input is not None and check.valid:
            return self.async_create_entry(data={CONF_SITE_FILE: user_input[CONF_SITE_FILE]})
        schema = vol.Schema({vol.Required(CONF_SITE_FILE): SITE_FILE_SELECTOR})
        return check.show(self, schema, user_input or dict(self.config_entry.options))
