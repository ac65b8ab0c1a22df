"""Repair issues the bridge's status can raise: each one is deleted once its cause is gone."""

from __future__ import annotations

from datetime import timedelta
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
# zero-touch bridges (a provisioning template): they rotate by themselves
ISSUE_ROTATION_DUE = "certificate_rotation_due"  # fixable: the fix runs the rotation
ISSUE_ROTATION_FAILED = "certificate_rotation_failed"
ISSUE_PROVISIONING_FAILED = "provisioning_failed"
# the store channel's object store refuses the bridge's credentials (HTTP 401/403)
ISSUE_STORE_REFUSED = "store_channel_refused"
STORE_REFUSED_CODE = "store_refused"  # the bridge's `errors.store_channel.code`
ISSUES = (
    ISSUE_SUBSCRIPTION_EXPIRED,
    ISSUE_CERTIFICATE_EXPIRING,
    ISSUE_KICK_LOOP,
    ISSUE_ROTATION_DUE,
    ISSUE_ROTATION_FAILED,
    ISSUE_PROVISIONING_FAILED,
    ISSUE_STORE_REFUSED,
)
FIXABLE = frozenset({ISSUE_ROTATION_DUE})


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
    causes.update(_certificate_causes(status))
    if status.get("kick_loop") is True:
        causes[ISSUE_KICK_LOOP] = {
            "contract_id": str(status.get("contract_id")),
            "instance_id": str(status.get("instance_id")),
        }
    errors = status.get("errors")
    store = errors.get("store_channel") if isinstance(errors, dict) else None
    if isinstance(store, dict) and store.get("code") == STORE_REFUSED_CODE:
        causes[ISSUE_STORE_REFUSED] = {"reason": str(store.get("reason"))}
    return causes


def _certificate_causes(status: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Expiry inside the margin; for zero-touch bridges, failed rotation or provisioning."""
    causes: dict[str, dict[str, str]] = {}
    identity = status.get("identity")
    identity = identity if isinstance(identity, dict) else {}
    zero_touch = identity.get("zero_touch") is True
    margin = identity.get("margin_days")
    warning = timedelta(days=margin) if isinstance(margin, int | float) else CERTIFICATE_WARNING
    expires = parse_timestamp(status.get("certificate_expires"))
    if expires is not None and expires - dt_util.utcnow() <= warning:
        kind = ISSUE_ROTATION_DUE if zero_touch else ISSUE_CERTIFICATE_EXPIRING
        causes[kind] = {"expires": expires.date().isoformat()}
    error = (identity.get("rotation") or {}).get("last_error")
    if isinstance(error, dict):
        causes[ISSUE_ROTATION_FAILED] = {
            "step": str(error.get("step")),
            "reason": str(error.get("message")),
        }
    provisioning = identity.get("provisioning_error")
    if isinstance(provisioning, dict):
        causes[ISSUE_PROVISIONING_FAILED] = {"reason": str(provisioning.get("message"))}
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
                is_fixable=kind in FIXABLE,
                severity=ir.IssueSeverity.ERROR,
                translation_key=kind,
                translation_placeholders=causes[kind],
                data={"entry_id": entry.entry_id} if kind in FIXABLE else None,
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))


@callback
def async_delete_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is gone: so are its issues."""
    for kind in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))
