"""Repair issues the bridge's status can raise: each one is deleted once its cause is gone."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .bridge_api import parse_timestamp
from .const import CERTIFICATE_WARNING, DOMAIN

ISSUE_SUBSCRIPTION_EXPIRED = "subscription_expired"
ISSUE_CERTIFICATE_EXPIRING = "certificate_expiring"
ISSUE_KICK_LOOP = "kick_loop"
ISSUES = (ISSUE_SUBSCRIPTION_EXPIRED, ISSUE_CERTIFICATE_EXPIRING, ISSUE_KICK_LOOP)


def issue_id(kind: str, entry: ConfigEntry) -> str:
    """One issue of each kind per bridge entry."""
    return f"{kind}_{entry.entry_id}"


def _causes(status: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The issues the status calls for, with their placeholders."""
    causes: dict[str, dict[str, str]] = {}
    subscription = status.get("subscription") or {}
    if subscription.get("state") == "expired":
        causes[ISSUE_SUBSCRIPTION_EXPIRED] = {
            "contract_id": str(status.get("contract_id")),
            "expires": str(subscription.get("expires") or "?"),
        }
    expires = parse_timestamp(status.get("certificate_expires"))
    if expires is not None and expires - dt_util.utcnow() <= CERTIFICATE_WARNING:
        causes[ISSUE_CERTIFICATE_EXPIRING] = {"expires": expires.date().isoformat()}
    if status.get("kick_loop") is True:
        causes[ISSUE_KICK_LOOP] = {
            "contract_id": str(status.get("contract_id")),
            "instance_id": str(status.get("instance_id")),
        }
    return causes


@callback
def async_update_issues(hass: HomeAssistant, entry: ConfigEntry, status: dict[str, Any]) -> None:
    """Create the issues the status calls for and delete the others."""
    causes = _causes(status)
    for kind in ISSUES:
        if kind in causes:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(kind, entry),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=kind,
                translation_placeholders=causes[kind],
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))


@callback
def async_delete_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is gone: so are its issues."""
    for kind in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))
