"""Repair issues from the bridge's status: each appears with its cause and clears with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .bridge_helpers import FakeBridge, healthy_status, poll, repair_issues


def _expired(status: dict[str, Any]) -> None:
    status["subscription"] = {"state": "expired", "expires": "2026-01-01"}


def _certificate_soon(status: dict[str, Any]) -> None:
    status["certificate_expires"] = (dt_util.utcnow() + timedelta(days=29)).isoformat()


def _kick_loop(status: dict[str, Any]) -> None:
    status["kick_loop"] = True


STORE_REFUSED = (
    "store channel: the store does not know our access key (HTTP 403 InvalidAccessKeyId): "
    "check aws_access_key_id (inspextor/commands.json)"
)


def _store_refused(status: dict[str, Any]) -> None:
    error = {"code": "store_refused", "reason": STORE_REFUSED, "at": 1_790_000_000.0}
    status["errors"]["store_channel"] = error
    status["last_error"] = {**error, "part": "store_channel"}


@pytest.mark.parametrize(
    ("kind", "cause", "placeholders"),
    [
        (
            "subscription_expired",
            _expired,
            {"contract_id": "C-1001", "expires": "2026-01-01"},
        ),
        ("certificate_expiring", _certificate_soon, None),
        ("kick_loop", _kick_loop, {"contract_id": "C-1001", "instance_id": "home-1"}),
        ("store_channel_refused", _store_refused, {"reason": STORE_REFUSED}),
    ],
)
async def test_issue_appears_and_clears(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
    kind: str,
    cause: Any,
    placeholders: dict[str, str] | None,
) -> None:
    """The cause shows up in the status: one issue; the cause is gone: the issue too."""
    assert repair_issues(hass) == {}
    cause(bridge.status)
    await poll(hass, freezer)
    issues = repair_issues(hass)
    issue_id = f"{kind}_{init_bridge.entry_id}"
    assert list(issues) == [issue_id]
    issue = issues[issue_id]
    assert issue.translation_key == kind
    assert issue.severity is ir.IssueSeverity.ERROR
    if placeholders is not None:
        assert issue.translation_placeholders == placeholders
    await poll(hass, freezer)
    assert list(repair_issues(hass)) == [issue_id]  # still there while the cause is
    bridge.status = healthy_status()
    await poll(hass, freezer)
    assert repair_issues(hass) == {}


async def test_certificate_far_from_expiry_is_fine(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
) -> None:
    """31 days left: no issue; the date comes closer: the issue names it."""
    expiry = dt_util.utcnow() + timedelta(days=31, hours=1)
    bridge.status["certificate_expires"] = expiry.isoformat()
    await poll(hass, freezer)
    assert repair_issues(hass) == {}
    freezer.tick(timedelta(days=2))
    await poll(hass, freezer)
    issue = repair_issues(hass)[f"certificate_expiring_{init_bridge.entry_id}"]
    assert issue.translation_placeholders == {"expires": expiry.date().isoformat()}


async def test_all_three_at_once_and_removal_clears_them(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each cause has its own issue; removing the entry removes them."""
    for cause in (_expired, _certificate_soon, _kick_loop):
        cause(bridge.status)
    await poll(hass, freezer)
    assert len(repair_issues(hass)) == 3
    await hass.config_entries.async_remove(init_bridge.entry_id)
    await hass.async_block_till_done()
    assert repair_issues(hass) == {}
