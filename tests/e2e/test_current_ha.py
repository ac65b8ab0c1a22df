"""End-to-end smoke on the Home Assistant users run today (HA 2026.x, Python 3.14).

The same real stack as test_stack.py (brokers, simulator, dev cloud, bridge), with the
`hass` named by DEVSTACK_HASS: scripts/test.sh points it at .venv-current/bin/hass
(scripts/bootstrap_current_ha.sh). Run alone:
  DEVSTACK_HASS=$PWD/.venv-current/bin/hass .venv/bin/python -m pytest \
    tests/e2e/test_current_ha.py -m current_ha -p no:homeassistant
The 2025.4 e2e run deselects it (-m "not current_ha").
"""

from __future__ import annotations

import asyncio
import os
import subprocess

import aiohttp
import pytest

from devkit.devstack.demo_things import THINGS_TITLE
from devkit.devstack.hass import HASS_ENV
from devkit.devstack.stack import BRIDGE_TITLE, SITE_TITLE, Stack
from tests.e2e.conftest import command_until_final, payload_value

pytestmark = [pytest.mark.e2e, pytest.mark.current_ha, pytest.mark.asyncio(loop_scope="session")]

KITCHEN = "light.kitchen_light"
KITCHEN_STATUS = "inspextor/b5ea3f/42/M/status"


def _wanted_version() -> str:
    """The version of the hass named by DEVSTACK_HASS (`hass --version`)."""
    hass = os.environ.get(HASS_ENV)
    if not hass:
        pytest.fail(f"{HASS_ENV} is not set: this smoke runs a given hass (see the docstring)")
    out = subprocess.run([hass, "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


async def test_runs_the_current_home_assistant(stack: Stack) -> None:
    """The hass under test is the one DEVSTACK_HASS names, a 2026.x."""
    assert stack.hass is not None
    wanted = _wanted_version()
    assert wanted.startswith("2026."), wanted
    assert stack.hass.credentials is not None
    headers = {"Authorization": f"Bearer {stack.hass.credentials.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{stack.hass.url}/api/config", headers=headers) as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["version"] == wanted


async def test_config_flows_made_loaded_entries(stack: Stack) -> None:
    """The site, things_sync and bridge entries, made through the config-flow API, are
    loaded (the devstack makes all three)."""
    assert stack.hass is not None
    entries = await stack.hass.config_entries("inspextor")
    assert sorted((e["title"], e["state"]) for e in entries) == sorted(
        [(SITE_TITLE, "loaded"), (THINGS_TITLE, "loaded"), (BRIDGE_TITLE, "loaded")]
    )


async def test_entities_have_the_ids_users_expect(stack: Stack) -> None:
    """Area-named devices keep their ids on 2026 (no light.kitchen_kitchen_light)."""
    assert stack.hass is not None
    ids = {s["entity_id"] for s in await stack.hass.all_states()}
    expected = {
        KITCHEN,
        "light.living_room_strip",
        "cover.bedroom_shade",
        "sensor.office_multisensor_temperature",
    }
    assert expected <= ids
    assert not any("kitchen_kitchen" in i for i in ids)


async def test_cloud_command_is_confirmed_by_the_device(
    stack: Stack, site_observer_factory
) -> None:
    """A mobile command goes cloud → bridge → hass 2026 → device; the device confirms."""
    seen = site_observer_factory(stack.config.site_port, KITCHEN_STATUS)
    command = await command_until_final(stack, "light.turn_on", KITCHEN, {"brightness": 77})
    statuses = [r["status"] for r in command["results"]]
    assert statuses[0] == "accepted"
    assert statuses[-1] == "succeeded", command
    assert command["results"][-1]["state"]["attributes"]["brightness"] == 77
    assert any(payload_value(p) == 77 for _, p in seen.matching(KITCHEN_STATUS))
    assert stack.hass is not None
    for _ in range(50):
        state = await stack.hass.get_state(KITCHEN)
        if state and state["attributes"].get("brightness") == 77:
            break
        await asyncio.sleep(0.1)
    assert state is not None
    assert (state["state"], state["attributes"]["brightness"]) == ("on", 77)
