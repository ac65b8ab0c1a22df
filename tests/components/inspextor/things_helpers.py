"""A things_sync entry in a test HA, its controllers simulated on real loopback UDP."""

from __future__ import annotations

from dataclasses import dataclass
import socket

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.const import (
    CONF_ENTRY_TYPE,
    CONF_SITE_FILE,
    DOMAIN,
    ENTRY_TYPE_THINGS,
)
from custom_components.inspextor.things_site import ThingsSite
from tests.helpers.things_sync import (
    ControllerLayout,
    SimSite,
    site_text,
)

from .helpers import wait_for

KEY = "a-long-shared-key"


def free_udp_port() -> int:
    """A UDP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def entity_id(hass: HomeAssistant, thing: str) -> str:
    """The entity id of a thing (by unique id)."""
    for state in hass.states.async_all():
        entry = hass.data["entity_registry"].async_get(state.entity_id)
        if entry is not None and entry.unique_id.endswith(f":{thing}"):
            return state.entity_id
    raise AssertionError(f"no entity for {thing}")


@dataclass
class ThingsTestSite:
    """The entry, HA's runtime site, and the simulated controllers."""

    entry: ConfigEntry[ThingsSite]
    sim: SimSite
    controllers: list[ControllerLayout]

    @property
    def things(self) -> ThingsSite:
        """HA's side."""
        return self.entry.runtime_data

    def state(self, hass: HomeAssistant, thing: str) -> str:
        """A thing's entity state."""
        state = hass.states.get(entity_id(hass, thing))
        assert state is not None
        return state.state


async def setup_things_site(
    hass: HomeAssistant,
    sim: SimSite,
    controllers: list[ControllerLayout],
    *,
    ttl: float | str = 30,
    key: str | None = None,
) -> ThingsTestSite:
    """Write the site file for the running controllers, add the entry, wait for the asks."""
    port = free_udp_port()
    text = site_text(controllers, sim.addresses, ttl=ttl, key=key, ha_port=port)
    sim.connect(("127.0.0.1", port))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Things",
        unique_id=f"{ENTRY_TYPE_THINGS}:Things",
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_THINGS},
        options={CONF_SITE_FILE: text},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return ThingsTestSite(entry, sim, controllers)  # type: ignore[arg-type]


async def wait_known(site: ThingsTestSite, count: int | None = None) -> None:
    """Until HA knows the value of every thing (or `count` of them)."""
    total = len(site.things.site.things) if count is None else count
    await wait_for(lambda: len(site.things.engine.values) >= total, timeout=20)
