"""kill -9 the bridge while it runs a command file, three times: no command runs twice.

The ledger is Home Assistant's side: the fake records every service call it receives.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import json
from pathlib import Path

import aiohttp

from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for
from tests.reliability import table
from tests.reliability.harness import BridgeProcess, bridge_options

COMMANDS = 12
KILLS = 3
LIGHT = "light.crash_lamp"


def _store(tmp_path: Path, name: str) -> Path:
    return tmp_path / "stores" / "inspextor" / name / "inspextor"


def _brightness(fake_ha: FakeHA) -> list[int]:
    return [int(c.data["brightness"]) for c in fake_ha.service_calls if c.domain == "light"]


async def test_sigkill_mid_file_resumes_and_runs_no_command_twice(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA
) -> None:
    fake_ha.set_state(LIGHT, "off")
    fake_ha.slow_service("light", "turn_on", 0.4)
    options = bridge_options(
        tmp_path,
        broker,
        fake_ha.url,
        fake_ha.token,
        store_channel=True,
        store_folder=str(tmp_path / "stores"),
        store_poll_interval=1,
        store_status_interval=0,
    )
    bridge = BridgeProcess(tmp_path, options)
    result_file = _store(tmp_path, "status") / "last_monitoring_status.json"
    async with aiohttp.ClientSession() as session:
        bridge.start()
        try:
            await bridge.ready(session)
            code, _ = await bridge.api(session, "PUT", "/api/exposure", {"entities": [LIGHT]})
            assert code == 200
            incoming = _store(tmp_path, "incoming")
            incoming.mkdir(parents=True)
            commands = [
                {"command": f"call_service('light.turn_on', {LIGHT!r}, {{'brightness': {i}}})"}
                for i in range(1, COMMANDS + 1)
            ]
            (incoming / "commands.json").write_text(json.dumps(commands))
            for kill in range(1, KILLS + 1):
                try:  # generous: a restarted bridge on a loaded machine
                    await wait_for(
                        lambda k=kill: len(_brightness(fake_ha)) >= 3 * k, 90, f"call {3 * kill}"
                    )
                except AssertionError as err:
                    raise AssertionError(f"{err}\n{bridge.log_text()[-4000:]}") from None
                bridge.kill()
                bridge.start()
            await wait_for(result_file.exists, 60, "the result file")
            result = json.loads(result_file.read_text())
            await bridge.status(session)
        finally:
            bridge.stop()
    seen = Counter(_brightness(fake_ha))
    twice = sorted(b for b, n in seen.items() if n > 1)
    statuses = [c["status"] for c in result["commands"]]
    interrupted = [c for c in result["commands"] if c["result"].startswith("interrupted")]
    never_called = [i for i in range(1, COMMANDS + 1) if i not in seen]
    table.record(
        "SIGKILL mid command file (store channel)",
        COMMANDS,
        len(never_called),
        len(twice),
        bridge.crashes,
        f"{KILLS} kills, {len(interrupted)} commands reported interrupted",
    )
    assert twice == [], f"commands run twice: {twice}"
    assert len(statuses) == COMMANDS
    assert len(interrupted) <= KILLS
    assert statuses.count("ok") + len(interrupted) == COMMANDS
    # every command not cut by a kill ran, and exactly once
    assert never_called == [], never_called
    assert _brightness(fake_ha) == sorted(_brightness(fake_ha))  # in file order
    await asyncio.sleep(0)
