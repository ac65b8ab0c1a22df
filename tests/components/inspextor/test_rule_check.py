"""`inspextor.check_rule`: the cloud bridge's candidate rule checked against the home."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.const import DOMAIN

LIGHT = "light.kitchen_light"
MOTION = "binary_sensor.hall_motion"


def _automation(ident: str, alias: str, action: str) -> dict[str, Any]:
    return {
        "id": ident,
        "alias": alias,
        "triggers": [{"trigger": "state", "entity_id": MOTION, "to": "on"}],
        "actions": [{"action": action, "target": {"entity_id": LIGHT}}],
    }


async def _check(hass: HomeAssistant, candidate: dict[str, Any]) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN, "check_rule", {"candidate": candidate}, blocking=True, return_response=True
    )
    assert response is not None
    findings: list[dict[str, Any]] = response["findings"]  # type: ignore[assignment]
    return findings


async def test_a_conflicting_candidate_names_the_automation_by_alias(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The user's "motion → light on" and a cloud rule "motion → light off": one conflict
    naming the user's automation by its alias; nothing is saved."""
    user = _automation("hall_on", "Hall motion on", "light.turn_on")
    assert await async_setup_component(hass, "automation", {"automation": [user]})
    await hass.async_block_till_done()
    cloud = _automation("inspextor_cloud_off", "Cloud: motion off", "light.turn_off")
    findings = await _check(hass, cloud)
    assert [(f["kind"], f["entity"], f["others"]) for f in findings] == [
        ("conflict", LIGHT, ["Hall motion on"])
    ]
    assert findings[0]["other_entities"] == ["automation.hall_motion_on"]
    assert hass.states.get("automation.cloud_motion_off") is None
    assert await _check(hass, _automation("inspextor_cloud_on", "Cloud: on", "light.turn_on")) == []


async def test_an_update_is_checked_in_place_of_its_old_version(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A saved cloud rule changed to the opposite action is not compared with itself."""
    saved = _automation("inspextor_cloud_x", "Cloud rule", "light.turn_on")
    assert await async_setup_component(hass, "automation", {"automation": [saved]})
    await hass.async_block_till_done()
    changed = _automation("inspextor_cloud_x", "Cloud rule", "light.turn_off")
    assert await _check(hass, changed) == []
