"""A things_sync site in HA, its controllers simulated on real UDP sockets on loopback.

No broker anywhere: the MQTT integration is not even set up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.things_sync import engine as engine_module
from devkit.lossy_link import Faults
from tests.helpers.things_sync import SimSite, layout, start_sim_site

from .helpers import wait_for
from .things_helpers import entity_id, setup_things_site, wait_known

CONTROLLERS = layout(2)


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[SimSite]:
    """Two controllers, pi0 on 127.0.0.2 and pi1 on 127.0.0.3."""
    running = await start_sim_site(CONTROLLERS)
    yield running
    await running.stop()


async def test_every_kind_of_entity_known_after_the_start_up_ask(
    hass: HomeAssistant, sim: SimSite
) -> None:
    pi0 = sim.by_name("pi0")
    pi0.things["pi0_temp0"].value = 21.5
    pi0.things["pi0_mode0"].value = "away"
    pi0.things["pi0_door0"].value = True
    pi0.things["pi0_dimmer0"].value = 40
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    await hass.async_block_till_done()
    assert hass.config_entries.async_entries("mqtt") == []  # no broker configured at all
    domains = {entity_id(hass, f"pi0_{thing}0").split(".")[0]: thing for thing in
               ("light", "dimmer", "door", "temp", "mode", "bell")}  # fmt: skip
    assert set(domains) == {"switch", "number", "binary_sensor", "sensor", "button"}
    assert site.state(hass, "pi0_light0") == STATE_OFF
    assert site.state(hass, "pi0_dimmer0") == "40"
    assert site.state(hass, "pi0_door0") == STATE_ON
    assert site.state(hass, "pi0_temp0") == "21.5"
    assert site.state(hass, "pi0_mode0") == "away"
    temp = hass.states.get(entity_id(hass, "pi0_temp0"))
    assert temp is not None
    assert temp.attributes["unit_of_measurement"] == "°C"
    assert temp.attributes["device_class"] == "temperature"
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), site.entry.entry_id)
    assert sorted(d.name or "" for d in devices) == ["pi0", "pi1"]


async def test_set_waits_for_the_reply_and_input_changes_arrive(
    hass: HomeAssistant, sim: SimSite
) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    light = entity_id(hass, "pi1_light0")
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: light}, blocking=True
    )
    assert sim.by_name("pi1").things["pi1_light0"].value is True
    assert site.state(hass, "pi1_light0") == STATE_ON
    await hass.services.async_call(
        "number", SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id(hass, "pi1_dimmer0"), ATTR_VALUE: 55}, blocking=True,
    )  # fmt: skip
    assert sim.by_name("pi1").things["pi1_dimmer0"].value == 55
    sim.by_name("pi1").report("pi1_door0", True)
    await wait_for(lambda: site.state(hass, "pi1_door0") == STATE_ON, timeout=5)
    await wait_for(lambda: "pi1_door0" not in sim.by_name("pi1")._reports, timeout=5)


async def test_repeats_carry_the_newest_value(hass: HomeAssistant, sim: SimSite) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    pi0 = sim.by_name("pi0")
    pi0.silent = True  # it hears nothing for a while
    number = entity_id(hass, "pi0_dimmer0")
    calls = [
        hass.async_create_task(
            hass.services.async_call(
                "number", SERVICE_SET_VALUE, {ATTR_ENTITY_ID: number, ATTR_VALUE: v}, blocking=True
            )
        )
        for v in (10, 70)
    ]
    await asyncio.sleep(0.7)  # at least one repeat goes unheard
    pi0.silent = False
    await asyncio.gather(*calls)
    assert pi0.things["pi0_dimmer0"].value == 70
    assert pi0.stats.sets_applied == 1  # 10 was never sent again once 70 was asked for
    assert site.state(hass, "pi0_dimmer0") == "70"


async def test_gives_up_after_the_time_to_live(hass: HomeAssistant, sim: SimSite) -> None:
    site = await setup_things_site(hass, sim, CONTROLLERS, ttl=1.5)
    await wait_known(site)
    sim.by_name("pi0").silent = True
    light = entity_id(hass, "pi0_light0")
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: light}, blocking=True
        )
    assert caught.value.translation_key == "things_no_answer"
    assert caught.value.translation_placeholders == {"name": "pi0_light0", "ttl": "1.5"}
    assert site.state(hass, "pi0_light0") == STATE_OFF  # the owner's real state
    with pytest.raises(ServiceValidationError) as refused:
        await site.things.async_set("pi1_door0", True)  # an input
    assert refused.value.translation_key == "things_not_writable"
    assert refused.value.translation_domain == DOMAIN


async def test_a_pulse_fires_once_however_often_it_is_duplicated(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    sim = await start_sim_site(CONTROLLERS, faults=Faults(duplicate=1.0, reorder=0.5))
    try:
        site = await setup_things_site(hass, sim, CONTROLLERS)
        await wait_known(site)
        bell = entity_id(hass, "pi1_bell0")
        for _ in range(3):
            await hass.services.async_call(
                "button", SERVICE_PRESS, {ATTR_ENTITY_ID: bell}, blocking=True
            )
        assert sum(link.stats.duplicated for link in sim.links) > 6
        await asyncio.sleep(0.2)  # late duplicates still in the link
        assert sim.by_name("pi1").things["pi1_bell0"].pulses == 3
    finally:
        await sim.stop()


async def test_a_controller_that_comes_back_is_asked_again(
    hass: HomeAssistant,
    sim: SimSite,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(engine_module, "OFFLINE_AFTER", 1.0)
    site = await setup_things_site(hass, sim, CONTROLLERS)
    await wait_known(site)
    pi0 = sim.by_name("pi0")
    await pi0.stop()  # power cut
    turn_on = hass.async_create_task(
        hass.services.async_call(
            "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id(hass, "pi0_light0")},
            blocking=True,
        )
    )  # fmt: skip
    await wait_for(lambda: site.state(hass, "pi0_temp0") == STATE_UNAVAILABLE, timeout=10)
    assert site.state(hass, "pi1_temp0") != STATE_UNAVAILABLE
    pi0.things["pi0_temp0"].value = 30.5  # changed while HA could not hear it
    await pi0.restart()
    await turn_on  # the repeat reaches it
    await wait_for(lambda: site.state(hass, "pi0_temp0") == "30.5", timeout=10)
    assert site.state(hass, "pi0_light0") == STATE_ON
    said = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert said.count("things_sync controller pi0 does not answer") == 1
    assert said.count("things_sync controller pi0 answers again") == 1


async def test_a_controller_device_goes_only_when_the_site_file_drops_it(
    hass: HomeAssistant, sim: SimSite
) -> None:
    from custom_components.inspextor import async_remove_config_entry_device
    from custom_components.inspextor.things_sync.site import parse_site
    from tests.helpers.things_sync import site_text

    site = await setup_things_site(hass, sim, CONTROLLERS)
    devices = {
        d.name: d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), site.entry.entry_id)
    }
    assert not await async_remove_config_entry_device(hass, site.entry, devices["pi1"])
    site.things.site = parse_site(site_text(CONTROLLERS[:1], sim.addresses[:1]))
    assert await async_remove_config_entry_device(hass, site.entry, devices["pi1"])
    assert not await async_remove_config_entry_device(hass, site.entry, devices["pi0"])
