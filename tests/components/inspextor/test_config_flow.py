"""Config flow of a site: menu, site step, site map errors, unique base topic, options."""

from __future__ import annotations

from homeassistant.config_entries import (
    SOURCE_MQTT,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
import yaml

from custom_components.inspextor.const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_ENTRY_TYPE,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DOMAIN,
)

from .helpers import find_device

GOOD_MAP = "devices:\n  b5ea3f/42:\n    name: Kitchen light\n    kind: light\n"


async def _site_form(hass: HomeAssistant) -> ConfigFlowResult:
    """Start the user flow and choose a site in its menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["site", "things_sync", "bridge"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )


async def test_user_creates_site(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> None:
    """A site is created with its base topic as unique id and `entry_type: site`."""
    result = await _site_form(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "site"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": " Home ", CONF_BASE_TOPIC: "/site/a/", CONF_SITE_MAP: GOOD_MAP},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.title == "Home"
    assert entry.unique_id == "site/a"
    assert entry.data == {CONF_ENTRY_TYPE: "site", CONF_BASE_TOPIC: "site/a"}
    assert entry.options == {
        CONF_SITE_MAP: GOOD_MAP,
        CONF_COMMAND_TIMEOUT: 3.0,
        CONF_RETRIES: 2,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("light.kitchen_light") is not None


async def test_user_without_mqtt_aborts(hass: HomeAssistant) -> None:
    """The devices speak MQTT: without HA's MQTT integration there is nothing to do."""
    result = await _site_form(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


@pytest.mark.parametrize(
    ("site_map", "error", "path", "detail"),
    [
        ("devices: [", "invalid_syntax", "site map", "line 1"),
        ('{"devices": ', "invalid_syntax", "site map", "line 1"),
        ("- a\n- b\n", "invalid_structure", "site map", "must be a mapping"),
        ("devices:\n  x/1:\n    name: X\n    kind: toaster\n", "unknown_kind", "x/1", "toaster"),
        (
            "devices:\n  x/1:\n    name: X\n    kind: light\n    subtopics: {C: color}\n",
            "invalid_capability",
            "x/1",
            "'color' of subtopic 'C' is not valid for kind light",
        ),
        (
            "devices:\n  x/1:\n    name: X\n    kind: light\n    subtopics: {status: brightness}\n",
            "reserved_subtopic",
            "x/1",
            "'status' is a reserved name",
        ),
        (
            "devices:\n  x/1:\n    name: X\n    kind: rgbw_light\n"
            "    subtopics: {M: brightness, B: brightness}\n",
            "duplicate_capability",
            "x/1",
            "'brightness' is mapped by more than one subtopic",
        ),
        ("devices:\n  x/1:\n    name: ' '\n    kind: light\n", "empty_name", "x/1", "no name"),
        ("devices:\n  x/+:\n    name: X\n    kind: light\n", "invalid_path", "x/+", "wildcards"),
        ("devices:\n  x//1:\n    name: X\n    kind: light\n", "invalid_path", "x//1", "empty"),
    ],
)
async def test_user_site_map_errors(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    site_map: str,
    error: str,
    path: str,
    detail: str,
) -> None:
    """Each site map problem is a field error naming the device path and the problem."""
    result = await _site_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Home", CONF_BASE_TOPIC: "inspextor", CONF_SITE_MAP: site_map}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SITE_MAP: error}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["path"] == path
    assert detail in placeholders["detail"]
    # Fixing the map finishes the flow.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Home", CONF_BASE_TOPIC: "inspextor", CONF_SITE_MAP: GOOD_MAP}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("base", ["", "  ", "a/+/b", "a/#", "a//b"])
async def test_user_invalid_base_topic(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, base: str
) -> None:
    """Wildcards or empty levels in the base topic are refused."""
    result = await _site_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Home", CONF_BASE_TOPIC: base, CONF_SITE_MAP: ""}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}


async def test_user_taken_base_topic_is_a_field_error(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> None:
    """A taken topic names the site that has it, keeps what was typed; the default is free."""
    mock_config_entry.add_to_hass(hass)
    result = await _site_form(hass)
    topic = next(key for key in result["data_schema"].schema if key == CONF_BASE_TOPIC)
    assert topic.default() == "inspextor2"
    typed = {"name": "Cottage", CONF_BASE_TOPIC: "inspextor", CONF_SITE_MAP: GOOD_MAP}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_TOPIC: "base_topic_taken"}
    assert result["description_placeholders"]["site"] == "Home"
    suggested = {
        str(key): key.description["suggested_value"] for key in result["data_schema"].schema
    }
    assert suggested == typed | {CONF_SITE_MAP: yaml.safe_load(GOOD_MAP)}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], typed | {CONF_BASE_TOPIC: "cottage"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_options_flow(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Options: a bad site map is a field error; a good one saves and reloads the site."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "site_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SITE_MAP: "devices:\n  q: {name: Q, kind: ozone, subtopics: {M: brightness}}\n",
            CONF_COMMAND_TIMEOUT: 1.5,
            CONF_RETRIES: 4,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SITE_MAP: "invalid_capability"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["path"] == "q"
    assert result["description_placeholders"]["detail"] == (
        "capability 'brightness' of subtopic 'M' is not valid for kind ozone"
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_SITE_MAP: GOOD_MAP, CONF_COMMAND_TIMEOUT: 1.5, CONF_RETRIES: 4.0},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == {
        CONF_SITE_MAP: GOOD_MAP,
        CONF_COMMAND_TIMEOUT: 1.5,
        CONF_RETRIES: 4,
        "thrash_hold": True,  # the thrash guard holds thrashing entities unless unticked
    }
    site = init_integration.runtime_data
    assert site.commands.timeout == 1.5
    assert site.commands.retries == 4
    assert set(site.devices) == {"b5ea3f/42"}


async def test_reconfigure_moves_base_topic(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A new base topic keeps entity ids; unique ids and device identifiers follow it."""
    entity_registry.async_update_entity("light.kitchen_light", name="My kitchen")
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Holiday home", CONF_BASE_TOPIC: "holiday"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.unique_id == "holiday"
    assert init_integration.title == "Holiday home"
    assert init_integration.data[CONF_BASE_TOPIC] == "holiday"
    light = entity_registry.async_get("light.kitchen_light")
    assert light is not None
    assert light.unique_id == "holiday:kitchen/1:brightness"
    assert light.name == "My kitchen"
    assert find_device(hass, "holiday:kitchen/1")
    assert find_device(hass, "holiday")
    assert init_integration.runtime_data.base == "holiday"


async def test_reconfigure_same_topic_renames(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Keeping the base topic just renames the site."""
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "  ", CONF_BASE_TOPIC: "inspextor"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.title == "InspeXtor"
    assert init_integration.unique_id == "inspextor"


async def test_reconfigure_errors(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A bad base topic, or another site's topic (named), is a field error."""
    other = MockConfigEntry(
        domain=DOMAIN, title="Cottage", unique_id="other", data={CONF_BASE_TOPIC: "other"}
    )
    other.add_to_hass(hass)
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Home", CONF_BASE_TOPIC: "bad/#"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Home", CONF_BASE_TOPIC: "other"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_TOPIC: "base_topic_taken"}
    assert result["description_placeholders"]["site"] == "Cottage"
    assert init_integration.unique_id == "inspextor"


def _discovery(topic: str = "inspextor/b5ea3f/42/announce") -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=topic,
        payload='{"name": "Kitchen light", "kind": "light"}',
        qos=0,
        retain=True,
        subscribed_topic="inspextor/+/+/announce",
        timestamp=0.0,
    )


async def test_mqtt_discovery_creates_site(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """An announcement on the broker offers the site; confirming adds its devices."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {"base_topic": "inspextor"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == "inspextor"
    assert entry.data == {CONF_ENTRY_TYPE: "site", CONF_BASE_TOPIC: "inspextor"}
    assert entry.options[CONF_SITE_MAP] == ""
    # The retained announcement reaches the new site's subscription.
    async_fire_mqtt_message(
        hass, "inspextor/b5ea3f/42/announce", '{"name": "Kitchen light", "kind": "light"}'
    )
    await hass.async_block_till_done()
    assert hass.states.get("light.kitchen_light") is not None


async def test_mqtt_discovery_already_configured(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A site that exists is not offered again, and is not reloaded for it."""
    site = init_integration.runtime_data
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery()
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # Through HA's MQTT discovery the flow carries a discovery key that updates the entry.
    async_fire_mqtt_message(
        hass, "inspextor/b5ea3f/42/announce", '{"name": "K", "kind": "light"}', retain=True
    )
    await hass.async_block_till_done()
    assert init_integration.discovery_keys  # the entry was updated ...
    assert init_integration.runtime_data is site  # ... but not reloaded


async def test_announcement_starts_discovery(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """The manifest's MQTT topics make HA offer the site when a device announces itself."""
    async_fire_mqtt_message(
        hass,
        "inspextor/b5ea3f/42/announce",
        '{"name": "Kitchen light", "kind": "light"}',
        retain=True,
    )
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_MQTT]
    assert flows[0]["context"]["title_placeholders"] == {"base_topic": "inspextor"}


async def test_user_while_discovery_in_progress(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """The same base topic cannot be set up twice at the same time."""
    discovered = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery()
    )
    assert discovered["type"] is FlowResultType.FORM
    result = await _site_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Home", CONF_BASE_TOPIC: "inspextor", CONF_SITE_MAP: ""}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_in_progress"
