"""The bridge's switchable transport: publishes wait for a switch; a switch that cannot
connect leaves the bridge on its old certificate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_bridge.identity.switching import SwitchableTransport
from cloud_bridge.transport.base import TransportError
from devkit.devcloud.ca import DevCA
from tests.helpers.fleet_cloud import FleetCloud, running_fleet_cloud
from tests.helpers.identity_bridge import provision
from tests.helpers.mosquitto import mosquitto_path
from tests.helpers.polling import wait_for
from tests.helpers.transport_recorder import Recorder

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")


@pytest.fixture
async def cloud() -> AsyncIterator[FleetCloud]:
    async with running_fleet_cloud() as running:
        yield running


async def connected(cloud: FleetCloud, tmp_path: Path) -> tuple[SwitchableTransport, Recorder]:
    store = await provision(cloud, tmp_path / "identity")
    active = store.load().active
    assert active is not None
    files = store.path(active.cert_file), store.path(active.key_file)

    async def identify() -> tuple[Path, Path]:
        return files

    transport = SwitchableTransport(cloud.open_transport, identify, active.thing_name)
    rec = Recorder()
    transport.set_handlers(rec.on_message, rec.on_connection)
    assert transport.mqtt_connection is None  # nothing before the first connect
    await transport.connect()
    await transport.subscribe("inx/C1/action")
    return transport, rec


async def test_a_switch_that_cannot_connect_stays_on_the_old_certificate(
    cloud: FleetCloud, tmp_path: Path
) -> None:
    transport, rec = await connected(cloud, tmp_path)
    stranger = DevCA.create("not the cloud's CA")  # the broker does not trust it
    cert, key = stranger.write_pair(tmp_path, "stranger")
    try:
        with pytest.raises(TransportError):
            await transport.switch(cert, key)
        assert transport.switches == []
        await wait_for(lambda: transport.connected, timeout=30)
        await transport.publish("inx/C1/action", b"still here")  # old certificate, subscribed
        await wait_for(lambda: ("inx/C1/action", b"still here") in rec.messages)
        assert transport.diagnosis is None
    finally:
        await transport.disconnect()


async def test_publishes_during_a_switch_wait_and_go_out_on_the_new_connection(
    cloud: FleetCloud, tmp_path: Path
) -> None:
    transport, rec = await connected(cloud, tmp_path)
    store_dir = tmp_path / "identity"
    active = next(p for p in store_dir.iterdir() if p.name.endswith(".pem.crt"))
    key = next(p for p in store_dir.iterdir() if p.name.endswith(".pem.key"))
    try:
        switch = asyncio.create_task(transport.switch(active, key))  # same files: a reconnect
        await asyncio.sleep(0)
        assert transport.connected  # to the bridge the switch is a pause, not an outage
        await transport.publish("inx/C1/action", b"during the switch")
        report = await switch
        assert report.offline_s >= 0
        await wait_for(lambda: ("inx/C1/action", b"during the switch") in rec.messages)
        assert transport.switches == [report]
    finally:
        await transport.disconnect()
