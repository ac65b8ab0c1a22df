"""A bridge SIGKILLed at each step of a rotation comes back on a working certificate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import os
from pathlib import Path
import signal
import sys

import pytest

from cloud_bridge.identity.rotation import Action, Step
from tests.helpers.fleet_cloud import FleetCloud, running_fleet_cloud
from tests.helpers.identity_bridge import LiveIdentity, provision
from tests.helpers.mosquitto import mosquitto_path

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def cloud() -> AsyncIterator[FleetCloud]:
    async with running_fleet_cloud() as running:
        yield running


async def run_child_until(cloud: FleetCloud, store_dir: Path, stop_at: str) -> None:
    args = {"port": cloud.broker.port, "ca": str(cloud.ca_file), "store": str(store_dir)}
    args["stop_at"] = stop_at
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.helpers.rotate_child",
        json.dumps(args),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await proc.stdout.readline()).decode().strip()
        assert line == f"AT {stop_at}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    ("stop_at", "resumes_with"),
    [
        ("key_made", Action.REQUEST_CERTIFICATE),
        ("cert_issued", Action.TRIAL),
        ("trial", Action.TRIAL),
        ("switched", Action.REPORT_OLD),
    ],
)
async def test_killed_at_each_step_recovers_on_a_working_certificate(
    cloud: FleetCloud, tmp_path: Path, stop_at: str, resumes_with: Action
) -> None:
    store = await provision(cloud, tmp_path / "identity")
    first = store.load().active
    assert first is not None

    await run_child_until(cloud, store.directory, stop_at)

    bridge = LiveIdentity(cloud, store)
    rotator = bridge.make_rotator()
    doc = await rotator.load()
    assert doc.active is not None
    assert store.complete(doc.active)
    # the certificate the restarted bridge finds works: it connects and publishes
    live = await bridge.connect(doc.active)
    try:
        await live.publish("inx/C1/send_sync_query_high", b"{}")
        if stop_at == "switched":
            assert doc.active.cert_id != first.cert_id  # the switch was durable
        else:
            assert doc.active == first  # before the switch: still the old one
        assert doc.rotation.requested
        assert rotator.next_action() is resumes_with
        assert await rotator.run() is Action.NOTHING
        final = rotator.doc.active
        assert final is not None
        assert final.cert_id != first.cert_id
        assert rotator.doc.rotation.step is Step.IDLE
        assert cloud.fleet.retired == [first.cert_id]
        assert bridge.live is not None
        await bridge.live.publish("inx/C1/send_sync_query_high", b"{}")
        assert {p.name for p in store.directory.iterdir()} == {
            "identity.json",
            final.cert_file,
            final.key_file,
        }
    finally:
        await bridge.close()
