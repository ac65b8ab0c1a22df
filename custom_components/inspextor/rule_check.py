"""The `inspextor.check_rule` service: the interactions analysis of one candidate rule.

The cloud bridge (a separate program that must not import this integration) calls it
over HA's WebSocket API with `return_response` before it saves a cloud rule: the
candidate automation config is checked against the home's enabled automations with the
same analysis as the repairs (interactions/), and the findings come back as response
data with the other automations' aliases, so the cloud can name what it collides with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
import voluptuous as vol

from .const import DOMAIN
from .interaction_monitor import collect_automations, collect_facts
from .interactions import Finding, check_candidate

SERVICE_CHECK_RULE = "check_rule"
ATTR_CANDIDATE = "candidate"
CHECK_RULE_SCHEMA = vol.Schema({vol.Required(ATTR_CANDIDATE): dict})


def candidate_key(hass: HomeAssistant, config_id: object, existing: Mapping[str, Any]) -> str:
    """The entity id the candidate has (or will have): the automation with its config id."""
    for key, config in existing.items():
        if config_id is not None and config.get("id") == config_id:
            return key
    for state in hass.states.async_all("automation"):
        if config_id is not None and state.attributes.get("id") == config_id:
            return state.entity_id
    return f"automation.{config_id}"


def describe(hass: HomeAssistant, finding: Finding, key: str) -> dict[str, Any]:
    """A finding for the cloud: the other automations by alias."""
    others = [auto for auto in finding.automations if auto != key]
    names = []
    for other in others:
        state = hass.states.get(other)
        names.append(state.name if state else other)
    return {**finding.as_dict(), "others": names, "other_entities": others}


def check_rule(hass: HomeAssistant, candidate: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings the candidate would bring among the home's automations."""
    existing = collect_automations(hass)
    key = candidate_key(hass, candidate.get("id"), existing)
    found = check_candidate(key, candidate, existing, collect_facts(hass))
    return [describe(hass, finding, key) for finding in found]


def async_setup_rule_check(hass: HomeAssistant) -> None:
    """Register `inspextor.check_rule` (response only)."""

    async def _check_rule(call: ServiceCall) -> ServiceResponse:
        findings = check_rule(hass, dict(call.data[ATTR_CANDIDATE]))
        return cast(ServiceResponse, {"findings": findings})

    hass.services.async_register(
        DOMAIN,
        SERVICE_CHECK_RULE,
        _check_rule,
        schema=CHECK_RULE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
