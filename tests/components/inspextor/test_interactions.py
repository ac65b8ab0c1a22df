"""Interactions in HA: repairs created and removed, the service's response, diagnostics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.site_diagnostics import interactions_diagnostics

AUTOMATION_DOMAIN = "automation"
LIGHT = "light.kitchen_light"
MOTION = "binary_sensor.hall_motion"


def _automation(ident: str, alias: str, action: str, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ident,
        "alias": alias,
        "triggers": [{"trigger": "state", "entity_id": MOTION, "to": "on"}],
        "actions": [{"action": action, "target": target}],
    }


ON = _automation("hall_on", "Hall motion on", "light.turn_on", {"entity_id": LIGHT})
OFF = _automation("hall_off", "Hall motion off", "light.turn_off", {"entity_id": LIGHT})


async def _settle(hass: HomeAssistant) -> None:
    """Past the monitor's debounce, and the analysis done."""
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done(wait_background_tasks=True)


def _issues(hass: HomeAssistant, key: str) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, _id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == key
    ]


async def _reload(hass: HomeAssistant, automations: list[dict[str, Any]]) -> None:
    with patch(
        "homeassistant.config.load_yaml_config_file",
        return_value={AUTOMATION_DOMAIN: automations},
    ):
        await hass.services.async_call(AUTOMATION_DOMAIN, "reload", blocking=True)
    await _settle(hass)


async def test_conflict_repair_created_and_removed(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Two automations fighting over the kitchen light: a repair naming both with links;
    after the user fixes one (reload), the repair is gone."""
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [ON, OFF]})
    await _settle(hass)
    issues = _issues(hass, "interaction_conflict")
    assert len(issues) == 1
    placeholders = issues[0].translation_placeholders or {}
    links = {placeholders["first"], placeholders["second"]}
    assert links == {
        "[Hall motion on](/config/automation/edit/hall_on)",
        "[Hall motion off](/config/automation/edit/hall_off)",
    }
    assert placeholders["entity"] == f"Kitchen light ({LIGHT})"
    assert issues[0].severity is ir.IssueSeverity.ERROR  # certain

    fixed = {**OFF, "triggers": [{"trigger": "state", "entity_id": MOTION, "to": "off"}]}
    await _reload(hass, [ON, fixed])
    assert _issues(hass, "interaction_conflict") == []


async def test_loop_and_shadowed_repairs(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A light that turns itself off and back on, and a rule that can never run."""
    looping = [
        {
            "id": "off_when_on",
            "alias": "Off when on",
            "triggers": [{"trigger": "state", "entity_id": LIGHT, "to": "on"}],
            "actions": [{"action": "light.turn_off", "target": {"entity_id": LIGHT}}],
        },
        {
            "id": "on_when_off",
            "alias": "On when off",
            "triggers": [{"trigger": "state", "entity_id": LIGHT, "to": "off"}],
            "actions": [{"action": "light.turn_on", "target": {"entity_id": LIGHT}}],
        },
        {
            "id": "never",
            "alias": "Never runs",
            "triggers": [{"trigger": "state", "entity_id": MOTION, "to": "on"}],
            "conditions": [{"condition": "state", "entity_id": MOTION, "state": "off"}],
            "actions": [{"action": "light.turn_on", "target": {"entity_id": LIGHT}}],
        },
    ]
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: looping})
    await _settle(hass)
    (loop,) = _issues(hass, "interaction_loop")
    assert (
        "[Off when on](/config/automation/edit/off_when_on)"
        in (loop.translation_placeholders or {})["automations"]
    )
    (shadowed,) = _issues(hass, "interaction_shadowed")
    assert (shadowed.translation_placeholders or {})["first_name"] == "Never runs"
    assert (shadowed.translation_placeholders or {})["first"] == (
        "[Never runs](/config/automation/edit/never)"
    )


async def test_service_returns_findings(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """`inspextor.check_interactions` answers with the findings, also in diagnostics."""
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [ON, OFF]})
    await hass.async_block_till_done()
    response = await hass.services.async_call(
        DOMAIN, "check_interactions", blocking=True, return_response=True
    )
    assert response is not None
    assert response["automations"] == 2
    findings = response["findings"]
    assert isinstance(findings, list)
    assert len(findings) == 1
    finding = findings[0]
    assert isinstance(finding, dict)
    assert finding["kind"] == "conflict"
    assert finding["severity"] == "certain"
    assert finding["entity"] == LIGHT
    assert sorted(finding["automations"]) == [
        "automation.hall_motion_off",
        "automation.hall_motion_on",
    ]
    assert interactions_diagnostics(hass)["findings"] == findings


async def test_registry_change_reanalyses(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An automation targets an area: once the light joins the area, the conflict shows.

    The light joins through its device, as a user would: HA 2026 refuses an area of its
    own for an entity that has no name of its own (the light takes its device's name).
    """
    area = ar.async_get(hass).async_get_or_create("Hall")
    by_area = _automation("hall_area_off", "Hall area off", "light.turn_off", {"area_id": area.id})
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [ON, by_area]})
    await _settle(hass)
    assert _issues(hass, "interaction_conflict") == []
    light = er.async_get(hass).async_get(LIGHT)
    assert light is not None
    assert light.device_id is not None
    dr.async_get(hass).async_update_device(light.device_id, area_id=area.id)
    await _settle(hass)
    assert len(_issues(hass, "interaction_conflict")) == 1


async def test_disabled_automation_is_not_analysed(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Turning one of the pair off (disabled) removes the conflict."""
    assert await async_setup_component(hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: [ON, OFF]})
    await _settle(hass)
    assert len(_issues(hass, "interaction_conflict")) == 1
    await hass.services.async_call(
        AUTOMATION_DOMAIN, "turn_off", {"entity_id": "automation.hall_motion_off"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "check_interactions", blocking=True, return_response=True
    )
    assert _issues(hass, "interaction_conflict") == []
