"""What a user reads about a bad site map: every problem at once, syntax errors in words."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor.const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DOMAIN,
)
from custom_components.inspextor.sitemap import SiteMapError, all_problems, parse_site_map

TWO_DEVICES_THREE_PROBLEMS = (
    "devices:\n  a/1: {kind: toaster}\n  a/2: {name: B, kind: light, colour: red}\n"
)


async def _submit_site(hass: HomeAssistant, site_map: object) -> dict:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )
    return dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"name": "Home", CONF_BASE_TOPIC: "home", CONF_SITE_MAP: site_map},
        )
    )


def test_every_problem_of_every_device_at_once() -> None:
    """No name and an unknown kind in one device, an unknown field in another: three."""
    with pytest.raises(SiteMapError) as err:
        parse_site_map(TWO_DEVICES_THREE_PROBLEMS)
    problems = [(p.error, p.path) for p in all_problems(err.value)]
    assert problems == [
        ("empty_name", "a/1"),
        ("unknown_kind", "a/1"),
        ("invalid_structure", "a/2"),
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("devices: {a: {name: A, kind: light}", "line 1, column 36: a { is not closed with }"),
        ("devices:\n  a: [1, 2\n", "line 2, column 11: a [ is not closed with ]"),
        ("devices:\n\ta: {}\n", "line 2, column 1: a tab: indent with spaces"),
        (
            "devices: {\n  a: {name: A}\n",
            "line 2, column 15: a { is not closed with } (or a comma is missing) "
            "(it starts on line 1)",
        ),
        ('devices: "abc\n', "line 1, column 14: a quoted text is not closed"),
        ("a: b: c", "line 1, column 5: a colon where none belongs"),
        ('{"devices": {"a": 1,}}', "line 1, column 20: a comma before a closing bracket"),
        ('{"devices": {"a" 1}}', "line 1, column 18: a colon is missing after a name"),
    ],
)
def test_syntax_errors_say_where_and_what(text: str, words: str) -> None:
    """Line, column and what was expected; none of the parser's own wording."""
    with pytest.raises(SiteMapError) as err:
        parse_site_map(text)
    assert err.value.error == "invalid_syntax"
    assert err.value.detail.startswith(words)
    assert "<stream end>" not in err.value.detail
    assert "expected ','" not in err.value.detail


async def test_site_form_lists_every_problem(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """One submit shows all three problems on the site map field, with their count."""
    result = await _submit_site(hass, TWO_DEVICES_THREE_PROBLEMS)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SITE_MAP: "site_map_problems"}
    placeholders = result["description_placeholders"]
    assert placeholders["count"] == "3"
    assert placeholders["problems"] == (
        "a/1: the device has no name; "
        "a/1: kind 'toaster' is unknown (one of light, rgbw_light, shade, motion, steinel, ozone); "
        "a/2: unknown field 'colour'"
    )


async def test_site_form_caps_the_list_with_a_count(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """Seven nameless devices: five named, then how many more."""
    text = "devices:\n" + "".join(f"  d/{n}: {{kind: light}}\n" for n in range(7))
    result = await _submit_site(hass, text)
    placeholders = result["description_placeholders"]
    assert placeholders["count"] == "7"
    assert placeholders["problems"].count("the device has no name") == 5
    assert placeholders["problems"].endswith("; and 2 more")


async def test_yaml_editor_mapping_is_stored_as_site_map_text(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """HA's YAML editor sends a mapping; it is kept as YAML text and its devices appear."""
    result = await _submit_site(
        hass, {"devices": {"b5ea3f/42": {"name": "Kitchen light", "kind": "light"}}}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    text = result["result"].options[CONF_SITE_MAP]
    assert parse_site_map(text).devices["b5ea3f/42"].name == "Kitchen light"
    assert hass.states.get("light.kitchen_light") is not None


async def test_options_editor_shows_the_stored_map_as_a_mapping(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The options form hands the stored text to the YAML editor as a mapping."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    key = next(k for k in result["data_schema"].schema if k == CONF_SITE_MAP)
    shown = key.description["suggested_value"]
    assert shown["devices"]["kitchen/1"]["name"] == "Kitchen light"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SITE_MAP: shown, CONF_COMMAND_TIMEOUT: 3, CONF_RETRIES: 2}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (
        set(parse_site_map(init_integration.options[CONF_SITE_MAP]).devices)
        == set(parse_site_map(init_integration.options[CONF_SITE_MAP]).devices)
        >= {"kitchen/1", "lab/o3"}
    )
