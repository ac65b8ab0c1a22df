"""Fixtures of the InspeXtor tests: a site with one device of every kind; a cloud bridge."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
from syrupy.assertion import SnapshotAssertion

from custom_components.inspextor.const import (
    CONF_BASE_TOPIC,
    CONF_COMMAND_TIMEOUT,
    CONF_ENTRY_TYPE,
    CONF_RETRIES,
    CONF_SITE_MAP,
    DOMAIN,
    ENTRY_TYPE_SITE,
)

from .bridge_helpers import FakeBridge, bridge_entry

SITE_MAP = """
subtopics:
  M: brightness
devices:
  kitchen/1:
    name: Kitchen light
    kind: light
    area: Kitchen
  living/2:
    name: Living strip
    kind: rgbw_light
    subtopics:
      C: color
  bedroom/shade:
    name: Bedroom shade
    kind: shade
  hall/pir:
    name: Hall motion
    kind: motion
  garden/steinel:
    name: Garden
    kind: steinel
  lab/o3:
    name: Lab
    kind: ozone
"""


@pytest.fixture
def site_map() -> str:
    """The site map text of the test site."""
    return SITE_MAP


@pytest.fixture
def mock_config_entry(site_map: str) -> MockConfigEntry:
    """A site entry on base topic `inspextor`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        unique_id="inspextor",
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_SITE, CONF_BASE_TOPIC: "inspextor"},
        options={CONF_SITE_MAP: site_map, CONF_COMMAND_TIMEOUT: 3.0, CONF_RETRIES: 2},
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the site with HA's MQTT integration (mocked paho client)."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def bridge(aioclient_mock: AiohttpClientMocker) -> FakeBridge:
    """The bridge's local API on 127.0.0.1:9998."""
    return FakeBridge(aioclient_mock)


@pytest.fixture
def mock_bridge_entry() -> MockConfigEntry:
    """A bridge entry with nothing exposed."""
    return bridge_entry()


@pytest.fixture
async def init_bridge(
    hass: HomeAssistant, bridge: FakeBridge, mock_bridge_entry: MockConfigEntry
) -> MockConfigEntry:
    """The bridge entry, set up against the fake bridge."""
    mock_bridge_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_bridge_entry.entry_id)
    await hass.async_block_till_done()
    return mock_bridge_entry


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """HA's snapshot extension (ids and times as ANY; files in `snapshots/`).

    pytest-homeassistant-custom-component defines the same fixture, but whether it or
    syrupy's wins differs between its versions; named here, both HA versions agree.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
