"""Zero-touch provisioning by claim against the dev cloud on a mutual-TLS Mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import stat

import pytest

from cloud_bridge.identity.fleet import ProvisioningRejected
from cloud_bridge.identity.provisioning import ClaimSettings, provision_by_claim
from cloud_bridge.identity.state import IdentityStore
from cloud_bridge.protocol.packets import decode, encode, ping_request
from cloud_bridge.transport.base import ConnectionEvent
from tests.helpers.fleet_cloud import TEMPLATE, FleetCloud, running_fleet_cloud
from tests.helpers.mosquitto import mosquitto_path
from tests.helpers.polling import wait_for
from tests.helpers.transport_recorder import Recorder

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")


@pytest.fixture
async def cloud() -> AsyncIterator[FleetCloud]:
    async with running_fleet_cloud() as running:
        yield running


def claim(cloud: FleetCloud, **overrides: str) -> ClaimSettings:
    values = {
        "template": TEMPLATE,
        "contract_id": "C1",
        "instance_id": "home-1",
        "client_id": "claim-home-1",
    }
    values.update(overrides)
    return ClaimSettings(cloud.claim_cert, cloud.claim_key, **values)


async def test_first_start_with_only_a_claim_ends_connected_as_its_own_thing(
    cloud: FleetCloud, tmp_path: Path
) -> None:
    store = IdentityStore(tmp_path / "identity")
    active = await provision_by_claim(claim(cloud), store, cloud.open_transport)

    assert active.thing_name == "C1-home-1"
    assert cloud.fleet.active_for("C1-home-1") == [active.cert_id]
    key = store.path(active.key_file)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert store.load().active == active  # durable: the next start connects with it
    assert {p.name for p in store.directory.iterdir()} == {
        "identity.json",
        active.cert_file,
        active.key_file,
    }

    thing = cloud.transport(store.path(active.cert_file), key, active.thing_name)
    rec = Recorder()
    thing.set_handlers(rec.on_message, rec.on_connection)
    await thing.connect()
    try:
        await thing.subscribe("inx/C1/ping")
        await thing.publish("inx/ping", encode(ping_request("C1", 0.0, 7)))
        await wait_for(lambda: any(t == "inx/C1/ping" for t, _ in rec.messages))
        assert decode(rec.messages[0][1])["seq"] == 7  # its own topics work, end to end
    finally:
        await thing.disconnect()


async def test_the_claim_certificate_cannot_publish_to_a_thing_topic(cloud: FleetCloud) -> None:
    seen: list[str] = []
    observer = cloud.observer()

    def on_connection(_event: ConnectionEvent) -> None:
        return None

    observer.set_handlers(lambda topic, _payload: seen.append(topic), on_connection)
    await observer.connect()
    await observer.subscribe("inx/#")
    await observer.subscribe("$aws/certificates/create-from-csr/json")
    claim_conn = cloud.transport(cloud.claim_cert, cloud.claim_key, "claim-probe")
    claim_conn.set_handlers(lambda *_: None, on_connection)
    await claim_conn.connect()
    try:
        await claim_conn.publish("inx/C1/send_sync_query_high", b'{"forged": true}')
        # a marker on a topic the claim may use; the broker keeps one client's order
        await claim_conn.publish("$aws/certificates/create-from-csr/json", b"{}")
        await wait_for(lambda: "$aws/certificates/create-from-csr/json" in seen)
        assert "inx/C1/send_sync_query_high" not in seen
        assert "Denied PUBLISH from claim-probe" in cloud.broker.log
    finally:
        await claim_conn.disconnect()
        await observer.disconnect()


@pytest.mark.parametrize(
    ("overrides", "error_code", "status", "words"),
    [
        ({"template": "no-such-template"}, "NotFound", 404, "Template no-such-template not found"),
        ({"instance_id": ""}, "InvalidParameters", 400, "Missing template parameters: InstanceId"),
    ],
)
async def test_a_rejected_provisioning_reports_the_clouds_reason(
    cloud: FleetCloud,
    tmp_path: Path,
    overrides: dict[str, str],
    error_code: str,
    status: int,
    words: str,
) -> None:
    store = IdentityStore(tmp_path / "identity")
    with pytest.raises(ProvisioningRejected) as err:
        await provision_by_claim(claim(cloud, **overrides), store, cloud.open_transport)
    assert err.value.error_code == error_code
    assert err.value.status_code == status
    assert words in str(err.value)
    assert err.value.code == "provisioning_rejected"
    assert store.load().active is None  # nothing half-made is taken for an identity
    await asyncio.sleep(0)
