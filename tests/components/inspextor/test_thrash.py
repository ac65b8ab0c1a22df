"""The thrash guard with real automations: the ECP seed's two fighting interactions."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON, STATE_ON
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.thrash import EVENT_THRASHING, is_flip

from .helpers import FakeDevices, fire_status

AUTOMATION_DOMAIN = "automation"
LIGHT = "light.kitchen_light"
MOTION = "binary_sensor.hall_motion"
FLIPS = 6  # the guard's default N


def ecp_automations(mode: str = "queued") -> list[dict[str, object]]:
    """'If motion, turn the light on' and 'if motion, turn the light off'."""
    return [
        {
            "id": f"ecp_{service}",
            "alias": f"Motion turns the light {service}",
            "mode": mode,
            "triggers": [{"trigger": "state", "entity_id": MOTION}],
            "actions": [{"action": f"light.turn_{service}", "target": {"entity_id": LIGHT}}],
        }
        for service in ("on", "off")
    ]


async def _devices_ready(hass: HomeAssistant) -> None:
    """Devices that confirm every command; the light known to be off, no motion."""
    devices = FakeDevices(hass)
    await devices.start()
    fire_status(hass, "kitchen/1", "M", 0)
    fire_status(hass, "hall/pir", "motion", False)
    await hass.async_block_till_done()


async def _setup(hass: HomeAssistant) -> list[str]:
    """Devices that confirm, the light known to be off, the two automations, and a log
    of the light's on/off flips."""
    await _devices_ready(hass)
    assert await async_setup_component(
        hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: ecp_automations()}
    )
    await hass.async_block_till_done()
    flips: list[str] = []

    @callback
    def _light_changed(event: Event) -> None:
        if event.data["entity_id"] != LIGHT:
            return
        old, new = event.data["old_state"], event.data["new_state"]
        if old is not None and new is not None and old.state != new.state:
            flips.append(new.state)

    hass.bus.async_listen("state_changed", _light_changed)
    return flips


async def _motion(hass: HomeAssistant, times: int) -> None:
    for index in range(times):
        fire_status(hass, "hall/pir", "motion", index % 2 == 0)
        await hass.async_block_till_done()


async def test_ecp_thrashing_is_stopped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """The light flips at most N times; the warning, event and repair name both
    automations; a person's command during the hold works; the hold ends by itself."""
    thrashing = async_capture_events(hass, EVENT_THRASHING)
    flips = await _setup(hass)
    await _motion(hass, 10)  # each motion change fires both automations: 20 commands
    assert 0 < len(flips) <= FLIPS
    assert len(thrashing) == 1
    assert thrashing[0].data["entity_id"] == LIGHT
    assert thrashing[0].data["automations"] == [
        "automation.motion_turns_the_light_off",
        "automation.motion_turns_the_light_on",
    ]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"thrashing_{LIGHT}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    named = issue.translation_placeholders["automations"]
    assert "[Motion turns the light on](/config/automation/edit/ecp_on)" in named
    assert "[Motion turns the light off](/config/automation/edit/ecp_off)" in named
    state = hass.states.get(LIGHT)
    assert state is not None
    assert "held_until" in state.attributes
    before = len(flips)
    await _motion(hass, 4)  # still held: automation commands are dropped
    assert len(flips) == before

    # A person (dashboard, app, voice: a context with a user) gets through at once.
    held_state = hass.states.get(LIGHT)
    assert held_state is not None
    target = "off" if held_state.state == STATE_ON else "on"
    await hass.services.async_call(
        "light",
        f"turn_{target}",
        {ATTR_ENTITY_ID: LIGHT},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    state = hass.states.get(LIGHT)
    assert state is not None
    assert state.state == target

    # The hold ends by itself after the cool-down; automations act again.
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    state = hass.states.get(LIGHT)
    assert state is not None
    assert "held_until" not in state.attributes
    before = len(flips)
    await _motion(hass, 1)
    assert len(flips) > before

    # Reloading the automations (the user edited them) clears the thrashing repair.
    with patch(
        "homeassistant.config.load_yaml_config_file",
        return_value={AUTOMATION_DOMAIN: ecp_automations()[:1]},
    ):
        await hass.services.async_call(AUTOMATION_DOMAIN, "reload", blocking=True)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"thrashing_{LIGHT}") is None


async def test_hold_off_only_warns(
    hass: HomeAssistant, mqtt_mock: object, mock_config_entry: MockConfigEntry
) -> None:
    """With the option `thrash_hold: false` the guard warns and raises the repair, but
    automation commands keep going through."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={**mock_config_entry.options, "thrash_hold": False}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    thrashing = async_capture_events(hass, EVENT_THRASHING)
    flips = await _setup(hass)
    await _motion(hass, 6)
    assert len(flips) > FLIPS
    assert thrashing
    assert thrashing[0].data["held_until"] is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"thrashing_{LIGHT}") is not None


async def test_person_flips_are_not_counted(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_admin_user: MockUser
) -> None:
    """A person flipping the light quickly is never held."""
    await _setup(hass)
    for index in range(FLIPS * 2):
        await hass.services.async_call(
            "light",
            SERVICE_TURN_ON if index % 2 == 0 else "turn_off",
            {ATTR_ENTITY_ID: LIGHT},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )
    state = hass.states.get(LIGHT)
    assert state is not None
    assert "held_until" not in state.attributes
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"thrashing_{LIGHT}") is None


def test_what_counts_as_a_flip() -> None:
    """On↔off and open↔closed flip; a new brightness or an unknown state does not."""
    assert is_flip("brightness", 0, 128)
    assert is_flip("position", 40, 0)
    assert not is_flip("brightness", 10, 200)
    assert not is_flip("brightness", None, 0)
    assert not is_flip("color", [0, 0, 0, 0], [1, 1, 1, 1])


async def test_script_run_by_an_automation_names_the_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A script an automation runs shares the automation's run: the automation is named."""
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "flip": {"sequence": [{"action": "light.toggle", "target": {"entity_id": LIGHT}}]}
            }
        },
    )
    thrashing = async_capture_events(hass, EVENT_THRASHING)
    await _devices_ready(hass)
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: [
                {
                    "id": "via_script",
                    "alias": "Motion flips via a script",
                    "mode": "queued",
                    "triggers": [{"trigger": "state", "entity_id": MOTION}],
                    "actions": [{"action": "script.flip"}],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    await _motion(hass, FLIPS + 2)
    assert thrashing
    assert thrashing[0].data["automations"] == ["automation.motion_flips_via_a_script"]


async def test_hold_is_an_option_of_the_site(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The options form offers the hold, ticked by default; unticking saves False."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    schema = result["data_schema"].schema
    (field,) = [key for key in schema if key == "thrash_hold"]
    assert field.default() is True
    options = dict(init_integration.options)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "site_map": options["site_map"],
            "command_timeout": options["command_timeout"],
            "retries": options["retries"],
            "thrash_hold": False,
        },
    )
    await hass.async_block_till_done()
    assert init_integration.options["thrash_hold"] is False
