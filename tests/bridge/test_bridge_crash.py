"""The outbox survives a bridge killed with SIGKILL in the middle of a flood."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import os
from pathlib import Path
import signal
import sqlite3
import subprocess
import sys

import aiohttp

from tests.bridge.bridge_fixtures import CONTRACT, start_cloud_peer
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker, free_port
from tests.helpers.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "crash-test-token"


def write_config(tmp_path: Path, broker: Broker, fake_ha: FakeHA, api_port: int) -> Path:
    path = tmp_path / "bridge.json"
    path.write_text(
        json.dumps(
            {
                "contract_id": CONTRACT,
                "instance_id": "home-crash",
                "instance_password": "crash-pw-123",
                "transport": "mqtt",
                "endpoint": broker.host,
                "port": broker.port,
                "ha_url": fake_ha.url,
                "ha_token": fake_ha.token,
                "data_dir": str(tmp_path / "data"),
                "api_port": api_port,
                "api_token": TOKEN,
                "ping_interval": 0,
                "high_window": 0.05,
                "low_window": 1,
                "max_publish_rate": 4,
                "log_level": "info",
            }
        )
    )
    return path


@contextlib.asynccontextmanager
async def bridge_process(config: Path, log: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPEXTOR_", "SUPERVISOR"))}
    env["PYTHONPATH"] = str(ROOT)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cloud_bridge", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def status(session: aiohttp.ClientSession, port: int) -> dict | None:
    try:
        async with session.get(
            f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as resp:
            return await resp.json()
    except aiohttp.ClientError:
        return None


async def test_sigkill_mid_flood_loses_nothing(tmp_path: Path, broker: Broker, fake_ha: FakeHA):
    peer = await start_cloud_peer(broker)
    port = free_port()
    config = write_config(tmp_path, broker, fake_ha, port)
    log = tmp_path / "bridge.log"
    sensors = [f"sensor.s{i}" for i in range(20)]
    for entity_id in [*sensors, "light.l"]:
        fake_ha.add_entity(entity_id, platform="inspextor")
    async with aiohttp.ClientSession() as session:

        async def ready() -> dict:
            return await wait_for_async(
                lambda: status(session, port),
                lambda s: s and s["cloud_connected"] and s["ha_connected"],
            )

        async def flood() -> None:
            for k in range(3000):
                fake_ha.set_state(sensors[k % 20], str(k))
                if k % 100 == 0:
                    fake_ha.set_state("light.l", "on", {"brightness": k % 256})
                if k % 20 == 0:
                    await asyncio.sleep(0.005)

        async with bridge_process(config, log) as proc:
            await ready()
            flooding = asyncio.create_task(flood())
            # kill -9 while the flood goes on and part of it waits in the outbox
            await wait_for_async(
                lambda: status(session, port), lambda s: s and s["outbox"]["low"] > 300, 20
            )
            assert not flooding.done()
            proc.send_signal(signal.SIGKILL)
            proc.wait(5)
            await flooding  # the flood goes on while the bridge is down
        fake_ha.set_state("light.l", "off", {"brightness": None})
        async with bridge_process(config, log):
            await ready()
            final = await wait_for_async(
                lambda: status(session, port),
                lambda s: s and not any(s["outbox"][lane] for lane in ("structure", "high", "low")),
                60,
            )
            assert final["outbox"]["dropped_low"] == 0
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "bridge.sqlite3")) as db:
        (last_low,) = db.execute("SELECT last FROM seq WHERE lane = 'low'").fetchone()
    assert last_low >= 300
    # every low record the bridge ever numbered reached the cloud (duplicates allowed)
    await wait_for(
        lambda: {r["seq"] for r in peer.records("low")} == set(range(1, last_low + 1)),
        what="every numbered reading at the cloud",
    )
    await peer.transport.disconnect()
    low = peer.records("low")
    values = {int(r["state"]) for r in low}
    assert len(values) > 300
    # after the restart the cloud knows every entity's latest state
    latest: dict[str, dict] = {}
    for record in sorted(peer.records("high") + low, key=lambda r: (r["lane"], r["seq"])):
        latest[record["entity_id"]] = record
    assert latest["light.l"]["state"] == "off"
    for name in sensors:
        assert latest[name]["state"] == fake_ha.states[name]["state"], name


async def wait_for_async(fetch, check, timeout: float = 15.0):
    """Poll `fetch()` until `check` holds for its value; return the value."""

    async def checked():
        value = await fetch()
        return value if check(value) else None

    return await wait_for(checked, timeout, "the bridge's status", interval=0.05)
