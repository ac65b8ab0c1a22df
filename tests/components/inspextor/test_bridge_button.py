"""The bridge's buttons: activate, ping now, resync."""

from __future__ import annotations

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .bridge_helpers import FakeBridge

ACTIVATION = "sensor.inspextor_cloud_bridge_activation_state"


async def _press(hass: HomeAssistant, key: str) -> None:
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: f"button.inspextor_cloud_bridge_{key}"},
        blocking=True,
    )


@pytest.mark.parametrize(
    ("key", "action"), [("activate", "activate"), ("ping_now", "ping"), ("resync", "resync")]
)
async def test_press_posts_the_action(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge, key: str, action: str
) -> None:
    """Each button posts its action once."""
    await _press(hass, key)
    assert bridge.posts(action) == 1
    assert sum(bridge.posts(other) for other in ("activate", "ping", "resync")) == 1


async def test_activate_refreshes_the_status(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """After an activation the device shows the new state without waiting for the poll."""
    bridge.status["activation"] = {"state": "never"}
    await init_bridge.runtime_data.async_refresh()
    assert hass.states.get(ACTIVATION).state == "never"
    bridge.status["activation"] = {"state": "activated"}
    await _press(hass, "activate")
    await hass.async_block_till_done()
    assert hass.states.get(ACTIVATION).state == "activated"


@pytest.mark.parametrize(
    ("key", "action", "status", "outcome", "reason"),
    [
        (
            "activate",
            "activate",
            200,
            {"action": "activate", "success": False, "reason": "the subscription expired"},
            "the subscription expired",
        ),
        (
            "ping_now",
            "ping",
            504,
            {"ok": False, "reason": "no pong within 5 s", "rtt_ms": None},
            "no pong within 5 s",
        ),
        (
            "resync",
            "resync",
            200,
            {"ok": False, "reason": "Home Assistant is not connected"},
            "Home Assistant is not connected",
        ),
        (
            "resync",
            "resync",
            500,
            {"error": {"code": "internal", "message": "database is locked"}},
            "database is locked",
        ),
    ],
)
async def test_failure_shows_the_bridges_reason(
    hass: HomeAssistant,
    init_bridge: MockConfigEntry,
    bridge: FakeBridge,
    key: str,
    action: str,
    status: int,
    outcome: dict[str, object],
    reason: str,
) -> None:
    """A failed action raises a translated error carrying the bridge's reason."""
    bridge.outcomes[action] = (status, outcome)
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, key)
    assert err.value.translation_key == "bridge_action_failed"
    assert err.value.translation_placeholders == {"action": action, "reason": reason}
    assert reason in str(err.value)


async def test_unreachable_bridge_fails_the_press(
    hass: HomeAssistant, init_bridge: MockConfigEntry, bridge: FakeBridge
) -> None:
    """The add-on stopped between two polls: the press says so."""
    bridge.reachable = False
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, "ping_now")
    assert (
        "cannot reach the bridge at 127.0.0.1:9998" in err.value.translation_placeholders["reason"]
    )


async def test_activate_says_what_pressing_it_again_does(
    hass: HomeAssistant, init_bridge: MockConfigEntry
) -> None:
    """The Activate button's attributes say a press while active only re-confirms."""
    state = hass.states.get("button.inspextor_cloud_bridge_activate")
    assert state is not None
    assert "Pressed again while active" in state.attributes["when_pressed"]
    assert "nothing is deregistered or lost" in state.attributes["when_pressed"]
