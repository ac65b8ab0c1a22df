"""Each verb's refusals and failures, and the ledger's housekeeping (folder backend)."""

from __future__ import annotations

from collections.abc import AsyncIterator
import hashlib
import json
from pathlib import Path
import time

import pytest

from cloud_bridge.ha.base import HAError
from tests.bridge.store_channel_fixtures import COMMANDS_KEY, Rig, channel_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with channel_rig(tmp_path, "folder", None) as running:
        yield running


async def _run(rig: Rig, *commands: str) -> list[dict[str, str]]:
    body = await rig.put_commands(list(commands))
    assert await rig.channel.poll_once() == "ran"
    result = await rig.wait_result(hashlib.sha256(body).hexdigest())
    return list(result["commands"])


async def test_get_states_shows_only_exposed_entities(rig: Rig) -> None:
    first, second, third = await _run(
        rig, "get_states()", "get_states(['light.hidden'])", "get_states('light.kitchen')"
    )
    assert [s["entity_id"] for s in json.loads(first["result"])] == ["light.kitchen"]
    assert second == {**second, "status": "error"}
    assert second["result"] == "not exposed to the cloud: light.hidden"
    assert third["result"] == "get_states takes a list of entity ids"


async def test_call_service_failures_are_the_commands_own(rig: Rig) -> None:
    await rig.store.set_exposure(["light.kitchen", "light.gone", "light.offline"])
    rig.ha.states["light.offline"] = {"entity_id": "light.offline", "state": "unavailable"}
    results = await _run(
        rig,
        "call_service('light.turn_on', 'light.kitchen', [1])",
        "call_service(1, 'light.kitchen')",
        "call_service('light.turn_on', 'light.gone')",
        "call_service('light.turn_on', 'light.offline')",
    )
    assert [r["status"] for r in results] == ["error"] * 4
    assert [r["result"] for r in results] == [
        "the service data must be a dictionary",
        "call_service takes a service and an entity id (text)",
        "light.gone does not exist in Home Assistant",
        "light.offline is unavailable",
    ]
    assert rig.ha.calls == []


async def test_a_home_assistant_error_fails_that_command_alone(rig: Rig) -> None:
    rig.ha.fail_get_state = HAError("not connected to Home Assistant", "not_connected")
    first, second = await _run(rig, "call_service('light.turn_on', 'light.kitchen')", "ping()")
    assert first["result"] == "Home Assistant: not connected to Home Assistant"
    assert second["status"] == "ok"


async def test_resync_and_outbox_reach_the_bridge(rig: Rig) -> None:
    resync, outbox = await _run(rig, "resync()", "get_outbox()")
    assert json.loads(resync["result"])["ok"] is True
    assert len(rig.resyncs) == 1
    assert set(json.loads(outbox["result"])) >= {"structure", "high", "low"}


async def test_old_runs_are_forgotten_but_never_a_keys_newest(rig: Rig) -> None:
    ledger = rig.channel.ledger
    old = await ledger.create(COMMANDS_KEY, "v1", ["ping()"], refused=("error", "x"))
    new = await ledger.create(COMMANDS_KEY, "v2", ["ping()"], refused=("error", "x"))
    for run in (old, new):
        await ledger.mark_uploaded(run.id)
    assert await ledger.purge(time.time() + 1, keep=0) == 1
    assert await ledger.find(COMMANDS_KEY, "v1") is None
    assert await ledger.find(COMMANDS_KEY, "v2") is not None  # so v2 never runs again
    assert await ledger.steps(old.id) == []
