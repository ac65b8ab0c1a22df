"""Fixtures of the InspeXtor tests: a site with one device of every kind; a cloud bridge."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
from syrupy.assertion import SnapshotAssertion

from .bridge_helpers import FakeBridge, bridge_entry
from .helpers import SITE_MAP, site_entry
from .snapshot_helpers import SNAPSHOT_SITE_MAP, SnapshotPlatform, snapshot_entities


@pytest.fixture
def site_map() -> str:
    """The site map text of the test site."""
    return SITE_MAP


@pytest.fixture
def mock_config_entry(site_map: str) -> MockConfigEntry:
    """A site entry on base topic `inspextor`."""
    return site_entry(site_map)


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


@pytest.fixture
def snapshot_site(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> SnapshotPlatform:
    """Snapshot one platform of a site with a device of every kind (SNAPSHOT_SITE_MAP)."""
    entry = site_entry(SNAPSHOT_SITE_MAP)
    return lambda platform: snapshot_entities(hass, entry, snapshot, monkeypatch, platform)
