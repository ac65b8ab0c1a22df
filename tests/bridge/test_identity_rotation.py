"""Certificate rotation over a live awsiotsdk connection against the dev cloud."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_bridge.identity.rotation import Action, Step
from cloud_bridge.transport.base import TransportError
from tests.helpers.fleet_cloud import FleetCloud, running_fleet_cloud
from tests.helpers.identity_bridge import LiveIdentity, provision
from tests.helpers.mosquitto import free_port, mosquitto_path
from tests.helpers.polling import wait_for

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")


@pytest.fixture
async def cloud() -> AsyncIterator[FleetCloud]:
    async with running_fleet_cloud() as running:
        yield running


@pytest.fixture
async def bridge(cloud: FleetCloud, tmp_path: Path) -> AsyncIterator[LiveIdentity]:
    store = await provision(cloud, tmp_path / "identity")
    live = LiveIdentity(cloud, store)
    doc = store.load()
    assert doc.active is not None
    await live.connect(doc.active)
    yield live
    await live.close()


async def old_certificate_refused(cloud: FleetCloud, cert: Path, key: Path) -> None:
    """Poll until the broker refuses a connection with this certificate."""

    async def refused() -> bool:
        probe = cloud.transport(cert, key, "probe-old", connect_timeout=5.0)
        probe.set_handlers(lambda *_: None, lambda _e: None)
        try:
            await probe.connect()
        except TransportError:
            return True
        await probe.disconnect()
        return False

    for _ in range(50):
        if await refused():
            return
    pytest.fail("the broker still accepts the retired certificate")


async def test_rotation_on_demand_switches_and_the_old_certificate_is_refused(
    bridge: LiveIdentity, cloud: FleetCloud
) -> None:
    rotator = bridge.make_rotator()
    await rotator.load()
    old = rotator.doc.active
    assert old is not None
    old_cert, old_key = bridge.store.path(old.cert_file), bridge.store.path(old.key_file)
    old_pem, old_key_pem = old_cert.read_bytes(), old_key.read_bytes()
    assert rotator.next_action() is Action.NOTHING  # a fresh certificate is not due

    await rotator.request()
    assert await rotator.run() is Action.NOTHING

    new = rotator.doc.active
    assert new is not None
    assert new.cert_id != old.cert_id
    assert new.thing_name == old.thing_name
    assert rotator.doc.rotation.step is Step.IDLE
    assert bridge.switches == [new]
    assert bridge.live is not None
    assert bridge.live.connected
    assert cloud.fleet.retired == [old.cert_id]
    assert cloud.fleet.active_for(new.thing_name) == [new.cert_id]
    assert not old_cert.exists()  # the old files are gone from the data folder
    kept_cert, kept_key = old_cert.parent / "old.pem", old_cert.parent / "old.key"
    kept_cert.write_bytes(old_pem)
    kept_key.write_bytes(old_key_pem)
    await old_certificate_refused(cloud, kept_cert, kept_key)
    await bridge.live.publish("inx/C1/send_sync_query_high", b"{}")  # the new one works


async def test_rotation_at_the_margin_needs_no_request(bridge: LiveIdentity) -> None:
    rotator = bridge.make_rotator()
    await rotator.load()
    assert rotator.next_action() is Action.NOTHING
    bridge.offset = 340 * 86_400.0  # 25 days left: inside the 30-day margin
    assert rotator.due()
    assert rotator.next_action() is Action.MAKE_KEY
    old_id = rotator.doc.active.cert_id if rotator.doc.active else None

    assert await rotator.run() is Action.NOTHING
    assert rotator.doc.active is not None
    assert rotator.doc.active.cert_id != old_id
    assert not rotator.due()  # the clock is back to now: a year left


async def test_a_failed_trial_connection_keeps_the_old_certificate(
    bridge: LiveIdentity, cloud: FleetCloud
) -> None:
    dead_port = free_port()

    def open_transport(cert: Path, key: Path, client_id: str):  # type: ignore[no-untyped-def]
        if client_id.endswith("-trial"):  # the trial goes nowhere
            return cloud.transport(cert, key, client_id, port=dead_port, connect_timeout=3.0)
        return cloud.open_transport(cert, key, client_id)

    rotator = bridge.make_rotator(open_transport)
    await rotator.load()
    old = rotator.doc.active
    await rotator.request()
    assert await rotator.run() is Action.WAIT

    rotation = rotator.doc.rotation
    assert rotator.doc.active == old
    assert rotator.store.load().active == old  # durable
    assert rotation.step is Step.IDLE
    assert rotation.last_error is not None
    assert rotation.last_error.step == "trial"
    assert rotation.last_error.code == "trial_failed"
    assert rotation.retry_at is not None
    assert bridge.switches == []
    assert bridge.live is not None
    await bridge.live.publish("inx/C1/send_sync_query_high", b"{}")  # still on the old one
    assert cloud.fleet.retired == []
    files = {p.name for p in rotator.store.directory.iterdir()}
    assert old is not None
    assert files == {"identity.json", old.cert_file, old.key_file}  # pending files dropped
    assert rotator.status()["rotation"]["last_error"]["message"].startswith("trial connection")
    await wait_for(lambda: bridge.live is not None and bridge.live.connected)
