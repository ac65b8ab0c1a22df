"""The bridge's certificate in HA: expiry sensor, rotate button, repairs and their fix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, UnknownFlow
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.repairs import async_create_fix_flow

from .bridge_helpers import FakeBridge, poll, repair_issues

SENSOR = "sensor.inspextor_cloud_bridge_certificate_expires"
BUTTON = "button.inspextor_cloud_bridge_rotate_certificate"


def _zero_touch(status: dict[str, Any], days_left: float, **rotation: Any) -> None:
    expires = (dt_util.utcnow() + timedelta(days=days_left)).isoformat()
    status["certificate_expires"] = expires
    status["identity"] = {
        "thing_name": "C-1001-home-1",
        "certificate_id": "ab" * 32,
        "certificate_expires": expires,
        "zero_touch": True,
        "margin_days": 30,
        "provisioning_error": None,
        "rotation": {"step": "idle", "last_error": None, **rotation},
    }


async def test_expiry_is_a_timestamp_sensor_on_the_bridge(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge, freezer
) -> None:
    _zero_touch(bridge.status, 200)
    await poll(hass, freezer)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.attributes["device_class"] == "timestamp"
    expected = dt_util.parse_datetime(bridge.status["certificate_expires"])
    assert expected is not None
    assert dt_util.parse_datetime(state.state) == expected.replace(microsecond=0)


async def test_the_rotate_button_posts_the_rotation(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
    )
    assert bridge.posts("certificate/rotate") == 1
    bridge.outcomes["certificate/rotate"] = (
        200,
        {"ok": False, "reason": "trial connection with the new certificate failed"},
    )
    with pytest.raises(HomeAssistantError, match="trial connection with the new certificate"):
        await hass.services.async_call(
            BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: BUTTON}, blocking=True
        )


async def test_below_the_margin_a_fixable_repair_whose_fix_rotates(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge, freezer
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    _zero_touch(bridge.status, 31)
    await poll(hass, freezer)
    assert repair_issues(hass) == {}
    _zero_touch(bridge.status, 29)
    await poll(hass, freezer)
    issue_id = f"certificate_rotation_due_{init_bridge.entry_id}"
    issue = repair_issues(hass)[issue_id]
    assert issue.is_fixable
    assert f"certificate_expiring_{init_bridge.entry_id}" not in repair_issues(hass)

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == issue.translation_placeholders
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert bridge.posts("certificate/rotate") == 1


async def test_a_failed_fix_aborts_with_the_reason(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge, freezer
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    _zero_touch(bridge.status, 10)
    bridge.outcomes["certificate/rotate"] = (200, {"ok": False, "reason": "the cloud said no"})
    await poll(hass, freezer)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    issue_id = f"certificate_rotation_due_{init_bridge.entry_id}"
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "rotation_failed"
    assert "the cloud said no" in result["description_placeholders"]["reason"]
    assert issue_id in repair_issues(hass)  # still due


async def test_a_failed_rotation_and_a_failed_provisioning_raise_repairs(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge, freezer
) -> None:
    error = {"step": "trial", "code": "trial_failed", "message": "no ping answer", "at": 1.0}
    _zero_touch(bridge.status, 200, last_error=error)
    bridge.status["identity"]["provisioning_error"] = {
        "code": "provisioning_rejected",
        "message": "RegisterThing rejected by the cloud: NotFound (404): Template x not found",
    }
    await poll(hass, freezer)
    issues = repair_issues(hass)
    failed = issues[f"certificate_rotation_failed_{init_bridge.entry_id}"]
    assert failed.translation_placeholders == {"step": "trial", "reason": "no ping answer"}
    assert not failed.is_fixable
    provisioning = issues[f"provisioning_failed_{init_bridge.entry_id}"]
    assert "NotFound (404)" in provisioning.translation_placeholders["reason"]
    _zero_touch(bridge.status, 200)
    await poll(hass, freezer)
    assert repair_issues(hass) == {}


async def test_no_fix_flow_for_an_unknown_issue_or_entry(hass: HomeAssistant) -> None:
    with pytest.raises(UnknownFlow):
        await async_create_fix_flow(hass, "certificate_rotation_due_x", {"entry_id": "gone"})
    with pytest.raises(UnknownFlow):
        await async_create_fix_flow(hass, "kick_loop_x", None)
