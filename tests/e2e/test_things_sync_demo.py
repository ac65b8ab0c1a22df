"""End to end: the demo's things_sync controller (its own process, UDP on 127.0.0.2).

The stack creates the things_sync entry through the config flow's REST API, as a user
would; its entities must all be known (asked at start-up), none unavailable.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from devkit.devstack.demo_things import CONTROLLER
from devkit.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

KINDS = {"switch", "number", "binary_sensor", "sensor", "button"}


async def test_demo_controller_entities_are_known(stack: Stack) -> None:
    assert stack.hass is not None
    assert stack.things_simulator is not None
    assert stack.things_simulator.running
    prefix = CONTROLLER.replace("-", "_")
    deadline = time.monotonic() + 60
    while True:
        states = [
            s
            for s in await stack.hass.all_states()
            if s["entity_id"].split(".", 1)[1].startswith(prefix)
        ]
        pending = [s for s in states if s["state"] in ("unknown", "unavailable")]
        kinds = {s["entity_id"].split(".")[0] for s in states}
        # A button's state is the time of its last press: "unknown" until pressed.
        if kinds == KINDS and all(p["entity_id"].startswith("button.") for p in pending):
            break
        assert time.monotonic() < deadline, (kinds, pending)
        await asyncio.sleep(0.5)
    assert len(states) == 6
