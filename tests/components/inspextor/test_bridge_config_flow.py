"""Config flow of the cloud bridge: manual step, add-on discovery, reconfigure, reauth."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.inspextor.const import CONF_ENTRY_TYPE, CONF_EXPOSED_ENTITIES, DOMAIN

from .bridge_helpers import BRIDGE_ID, HOST, PORT, TOKEN, FakeBridge

MANUAL = {CONF_HOST: f" {HOST} ", CONF_PORT: PORT, CONF_TOKEN: f"{TOKEN}\n"}


async def _bridge_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "bridge"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bridge"
    return dict(result)


def _discovery(host: str = HOST, port: int = PORT, token: str = TOKEN) -> HassioServiceInfo:
    return HassioServiceInfo(
        config={"host": host, "port": port, "token": token},
        name="InspeXtor cloud bridge",
        slug="inspextor_bridge",
        uuid="1234",
    )


async def test_manual_creates_bridge(hass: HomeAssistant, bridge: FakeBridge) -> None:
    """Host, port and token are checked against /api/status; the entry is the bridge."""
    form = await _bridge_form(hass)
    schema = form["data_schema"].schema
    port_default = next(key for key in schema if key == CONF_PORT).default()
    assert port_default == 9998
    result = await hass.config_entries.flow.async_configure(form["flow_id"], MANUAL)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.title == "InspeXtor cloud bridge"
    assert entry.unique_id == BRIDGE_ID
    assert entry.data == {
        CONF_ENTRY_TYPE: "bridge",
        CONF_HOST: HOST,
        CONF_PORT: PORT,
        CONF_TOKEN: TOKEN,
    }
    assert entry.options == {CONF_EXPOSED_ENTITIES: []}
    assert entry.state is ConfigEntryState.LOADED
    assert bridge.exposure == []  # nothing exposed until the user chooses


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"reachable": False}, {"base": "cannot_connect"}),
        # A refused token is shown on the token field, not above the form.
        ({"token": "another-token"}, {CONF_TOKEN: "invalid_auth"}),
        ({"status": {"hello": "not a bridge"}}, {"base": "cannot_connect"}),
    ],
)
async def test_manual_errors_then_recovers(
    hass: HomeAssistant, bridge: FakeBridge, change: dict[str, Any], errors: dict[str, str]
) -> None:
    """An unreachable bridge, a refused token or a foreign server show the error."""
    good = {"reachable": bridge.reachable, "token": bridge.token, "status": bridge.status}
    for name, value in change.items():
        setattr(bridge, name, value)
    form = await _bridge_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], MANUAL)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    for name, value in good.items():
        setattr(bridge, name, value)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], MANUAL)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_manual_not_json_is_cannot_connect(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Something else answering on the port is not a bridge."""
    aioclient_mock.get(f"http://{HOST}:{PORT}/api/status", text="<html>router</html>")
    form = await _bridge_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], MANUAL)
    assert result["errors"] == {"base": "cannot_connect"}


async def test_manual_already_configured(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """The same contract and instance cannot be added twice."""
    form = await _bridge_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], MANUAL)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_discovery_creates_bridge(hass: HomeAssistant, bridge: FakeBridge) -> None:
    """The add-on's discovery message offers the bridge; confirming adds it."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "InspeXtor cloud bridge"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == BRIDGE_ID
    assert result["result"].data[CONF_TOKEN] == TOKEN
    assert result["result"].state is ConfigEntryState.LOADED


async def test_rediscovery_updates_address_and_token(
    hass: HomeAssistant, init_bridge: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """The add-on moved and got a new token: the entry follows and reloads."""
    moved = FakeBridge(aioclient_mock, host="172.30.33.4", port=9999, token="new-token")
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_HASSIO},
        data=_discovery("172.30.33.4", 9999, "new-token"),
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert init_bridge.data[CONF_HOST] == "172.30.33.4"
    assert init_bridge.data[CONF_PORT] == 9999
    assert init_bridge.data[CONF_TOKEN] == "new-token"
    assert init_bridge.state is ConfigEntryState.LOADED
    assert moved.puts() == [{"entities": []}]  # the reloaded entry talks to the new address


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"reachable": False}, "cannot_connect"), ({"token": "other"}, "invalid_auth")],
)
async def test_discovery_unusable_aborts(
    hass: HomeAssistant, bridge: FakeBridge, change: dict[str, Any], reason: str
) -> None:
    """A discovery whose bridge does not answer (or refuses the token) is not offered."""
    for name, value in change.items():
        setattr(bridge, name, value)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery()
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_reconfigure_bridge(
    hass: HomeAssistant, init_bridge: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A new host, port and token of the same bridge; errors first."""
    result = await init_bridge.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    moved = FakeBridge(aioclient_mock, host="10.0.0.9", port=9000, token="t2", reachable=False)
    new = {CONF_HOST: "10.0.0.9", CONF_PORT: 9000, CONF_TOKEN: "t2"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["errors"] == {"base": "cannot_connect"}
    moved.reachable = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(init_bridge.data) == {CONF_ENTRY_TYPE: "bridge", **new}
    assert init_bridge.state is ConfigEntryState.LOADED


async def test_reconfigure_to_another_bridge_aborts(
    hass: HomeAssistant, init_bridge: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """Pointing the entry at a different contract/instance is refused."""
    other = FakeBridge(aioclient_mock, host="10.0.0.8")
    other.status["instance_id"] = "home-2"
    result = await init_bridge.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "10.0.0.8", CONF_PORT: PORT, CONF_TOKEN: TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_bridge"
    assert init_bridge.data[CONF_HOST] == HOST


async def test_refused_token_starts_reauth(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """The add-on's token changed: a reauth flow asks for it, then the entry reloads."""
    bridge.token = "rotated"
    await init_bridge.runtime_data.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_TOKEN: "rotated"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_bridge.data[CONF_TOKEN] == "rotated"
    assert init_bridge.state is ConfigEntryState.LOADED


async def test_manual_server_error_is_cannot_connect(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A bridge answering 500 (its store is broken) cannot be added yet."""
    aioclient_mock.get(
        f"http://{HOST}:{PORT}/api/status",
        status=500,
        json={"error": {"code": "internal", "message": "database is locked"}},
    )
    form = await _bridge_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], MANUAL)
    assert result["errors"] == {"base": "cannot_connect"}
