"""things_sync in HA: who is heard, what is refused and counted, services, diagnostics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import socket

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.things_sync import wire
from tests.helpers.things_sync import SimSite, layout, start_sim_site

from .helpers import wait_for
from .things_helpers import KEY, setup_things_site, wait_known

CONTROLLERS = layout(1)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[SimSite]:
    """One controller, pi0 on 127.0.0.2."""
    running = await start_sim_site(CONTROLLERS)
    yield running
    await running.stop()


def errors(hass: HomeAssistant, entry_id: str) -> dict[str, int]:
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    counts: dict[str, int] = entry.runtime_data.engine.diagnostics()["controllers"]["pi0"]["errors"]
    return counts


async def test_a_stranger_is_refused_and_counted(hass: HomeAssistant, sim: SimSite) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    ha = sim.controllers[0].spec.ha
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.bind(("127.0.0.99", 0))
        stranger.sendto(json.dumps([wire.io("set", "pi0_door0", 1)]).encode(), ha)
    await wait_for(lambda: site.things.engine.refused, timeout=5)
    assert site.things.engine.refused == {"127.0.0.99": 1}
    assert site.state(hass, "pi0_door0") == "off"


async def test_a_signed_site_refuses_a_wrong_key(hass: HomeAssistant, socket_enabled: None) -> None:
    sim = await start_sim_site(CONTROLLERS, key="not-the-site-key")
    try:
        site = await setup_things_site(hass, sim, CONTROLLERS, key=KEY, ttl=1)
        sim.controllers[0].report("pi0_door0", True)  # signed with the wrong key
        await wait_for(lambda: errors(hass, site.entry.entry_id).get(wire.ERR_SIGNATURE), 5)
        assert site.things.engine.values == {}
        assert sim.controllers[0].stats.unreadable > 0  # it refuses HA's signature too
        sim.controllers[0].spec.key = KEY
        await wait_known(site)  # the asks go on until answered
        assert site.things.engine.values["pi0_door0"] is True
    finally:
        await sim.stop()


async def test_every_malformed_class_is_counted_never_raised(
    hass: HomeAssistant, sim: SimSite, caplog: pytest.LogCaptureFixture
) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    pi0 = sim.controllers[0]
    hostile = [
        b"\xff\xfe not utf-8",
        b"{not json",
        b"[" + b"0," * 900 + b"0]",
        b"[42]",
        b'[{"type":"weather"}]',
        b'[{"type":"io","cmd":"toggle","io":"pi0_door0"}]',
        b'[{"type":"io","cmd":"set","io":"no_such_thing","val":1}]',
        b'[{"type":"io","cmd":"set","io":"pi0_door0","val":"open"}]',
    ]
    for data in hostile * 2:
        pi0.send_raw(data)
    expected = {
        wire.ERR_JSON: 6,
        wire.ERR_REQUEST: 4,
        wire.ERR_COMMAND: 2,
        wire.ERR_THING: 2,
        wire.ERR_VALUE: 2,
    }
    await wait_for(lambda: errors(hass, site.entry.entry_id) == expected, timeout=5)
    warnings = [
        r for r in caplog.records if r.levelname == "WARNING" and r.name.startswith("custom_")
    ]
    assert len(warnings) == 5  # once per error id, then debug
    assert site.state(hass, "pi0_door0") == "off"


async def test_role_command_cum_and_clim_services(hass: HomeAssistant, sim: SimSite) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    answer = await hass.services.async_call(
        DOMAIN, "things_command",
        {"role": "cmd_do", "command": "version"}, blocking=True, return_response=True,
    )  # fmt: skip
    assert answer == {"controller": "pi0", "role": "cmd_do", "result": "inspextor-sim 1.0"}
    answer = await hass.services.async_call(
        DOMAIN, "things_command",
        {"controller": "pi0", "role": "light", "command": "set", "args": ["HALL", 0]},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert answer is not None
    assert answer["result"] == {"done": "set", "args": ["HALL", 0], "kwargs": {}}
    sim.controllers[0].report("pi0_door0", True)
    await wait_for(lambda: site.state(hass, "pi0_door0") == "on", timeout=5)
    cum = await hass.services.async_call(
        DOMAIN, "things_cum", {"thing": "pi0_door0"}, blocking=True, return_response=True
    )
    assert cum == {"thing": "pi0_door0", "cum": {"changes": 1, "value": True}}
    clim = await hass.services.async_call(
        DOMAIN, "things_clim",
        {"controller": "pi0", "settings": {"target": 21}}, blocking=True, return_response=True,
    )  # fmt: skip
    assert clim == {"controller": "pi0", "result": {"target": 21}}
    assert sim.controllers[0].climate == {"target": 21}
    assert sim.controllers[0].stats.commands == {"cmd_do.version": 1, "light.set": 1}


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("things_command", {"role": "irr", "command": "abort"}, "things_unknown_role"),
        ("things_command", {"controller": "pi9", "command": "x"}, "things_unknown_controller"),
        ("things_cum", {"thing": "nothing"}, "things_unknown_thing"),
        ("things_clim", {}, "things_unknown_role"),
        ("things_cum", {"thing": "x", "config_entry_id": "nope"}, "things_no_site"),
    ],
)
async def test_services_refuse_what_the_site_does_not_have(
    hass: HomeAssistant, sim: SimSite, service: str, data: dict[str, object], key: str
) -> None:
    await setup_things_site(hass, sim, CONTROLLERS)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=True)
    assert caught.value.translation_key == key


async def test_a_command_nobody_answers_fails_visibly(hass: HomeAssistant, sim: SimSite) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS, ttl=1)
    await wait_known(site)
    sim.controllers[0].silent = True
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN, "things_command", {"role": "cmd_do", "command": "reboot"},
            blocking=True, return_response=True,
        )  # fmt: skip
    assert caught.value.translation_key == "things_no_answer"


async def test_diagnostics_count_and_redact(
    hass: HomeAssistant, sim: SimSite, hass_client: ClientSessionGenerator
) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS, key=None)
    sim.controllers[0].spec.key = None
    await wait_known(site)
    sim.controllers[0].send_raw(b"garbage")
    await wait_for(lambda: errors(hass, site.entry.entry_id), timeout=5)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, site.entry)
    assert diagnostics["entry"]["options"]["site_file"] == "**REDACTED**"
    found = diagnostics["site"]
    assert found["controllers"]["pi0"]["available"] is True
    assert found["controllers"]["pi0"]["errors"] == {wire.ERR_JSON: 1}
    assert found["known"] == found["things"] == 6
    assert found["signed"] is False
    await asyncio.sleep(0)


async def test_a_pulse_from_a_controller_is_one_event(hass: HomeAssistant, sim: SimSite) -> None:
    from pytest_homeassistant_custom_component.common import async_capture_events

    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    events = async_capture_events(hass, "inspextor_things_pulse")
    pulse = json.dumps([{"type": "io", "cmd": "pulse", "io": "pi0_bell0", "val": 1, "mid": "ab:1"}])
    state = site.things.engine.controllers["pi0"]
    before = state.received
    for _ in range(3):  # the controller repeats it (its reply_pulse was lost, say)
        sim.controllers[0].send_raw(pulse.encode())
    await wait_for(lambda: state.received >= before + 3, timeout=5)  # all three heard
    await hass.async_block_till_done()
    assert [e.data for e in events] == [{"controller": "pi0", "thing": "pi0_bell0"}]
