"""Failure paths of the bridge core, driven through in-memory fakes of the two seams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
from pathlib import Path
import time
from typing import Any

import pytest

from cloud_bridge.bridge import Bridge
from cloud_bridge.command_handler import CommandHandler
from cloud_bridge.config import parse_options
from cloud_bridge.factory import build_bridge
from cloud_bridge.ha.base import HAError
from cloud_bridge.protocol.action_packets import action_packet
from cloud_bridge.protocol.packets import ActivationAction, encode
from cloud_bridge.protocol.packing import unpack
from cloud_bridge.protocol.records import Lane
from cloud_bridge.storage import StorageError
from cloud_bridge.transport.base import ConnectionState, TransportError
from tests.bridge.fakes import FakeCloudTransport, FakeHomeAssistant
from tests.helpers.polling import wait_for


def make_bridge(
    tmp_path: Path, **overrides: Any
) -> tuple[Bridge, FakeCloudTransport, FakeHomeAssistant]:
    options = {
        "contract_id": "C-9",
        "instance_id": "home-9",
        "instance_password": "pw-9999",
        "transport": "mqtt",
        "endpoint": "127.0.0.1",
        "ha_token": "token-9",
        "data_dir": str(tmp_path),
        "ping_interval": 0,
        "high_window": 0.05,
        "activation_timeout": 0.2,
    }
    options.update(overrides)
    transport, ha = FakeCloudTransport(), FakeHomeAssistant()
    bridge = build_bridge(
        parse_options(options, {}), transport=transport, ha=ha, api_token="t", serve_api=False
    )
    return bridge, transport, ha


def topics(transport: FakeCloudTransport) -> list[str]:
    return [t for t, _ in transport.published]


async def test_connect_retries_and_connection_events(tmp_path: Path) -> None:
    bridge, transport, ha = make_bridge(tmp_path)
    transport.connect_failures = 1
    ha.set("light.a", "on")
    await bridge.start()
    try:
        assert transport.subscriptions == ["inx/C-9/activate", "inx/C-9/ping", "inx/C-9/action"]
        assert (await bridge.status())["last_error"]["code"] == "connect_failed"
        await wait_for(lambda: transport.connected, what="second connect attempt")
        await wait_for(lambda: "inx/C-9/send_sync_query_high" in topics(transport), what="sync")
        transport.emit(ConnectionState.INTERRUPTED, "duplicate_client_id", "kicked")
        status = await bridge.status()
        assert status["kick_loop"] is True
        assert status["cloud_connected"] is False
        assert status["last_error"]["reason"] == "kicked"
        transport.emit(ConnectionState.CONNECTED)
        assert (await bridge.status())["last_error"]["code"] == "duplicate_client_id"
        transport.emit(ConnectionState.DISCONNECTED)
        assert (await bridge.status())["last_error"]["code"] == "cloud_disconnected"
        transport.emit(ConnectionState.CONNECTED)
        assert (await bridge.status())["last_error"] is None
        transport.on_message("inx/C-9/unknown", b"{}")
    finally:
        await bridge.stop()


async def test_wrong_ha_token_is_reported(tmp_path: Path) -> None:
    bridge, _, ha = make_bridge(tmp_path)
    ha.connected = False
    ha.last_error = HAError("Home Assistant refused the access token", "invalid_auth")
    await bridge.start()
    try:
        status = await bridge.status()
        assert status["last_error"]["code"] == "ha_invalid_auth"
        assert "refused the access token" in status["last_error"]["reason"]
        assert (await bridge.resync())["ok"] is False
    finally:
        await bridge.stop()


async def test_resync_reports_ha_errors(tmp_path: Path) -> None:
    bridge, _, ha = make_bridge(tmp_path)
    await bridge.start()
    try:
        ha.fail_reads = HAError("registry unavailable", "unknown_error")
        result = await bridge.resync()
        assert result == {"ok": False, "reason": "registry unavailable"}
        assert (await bridge.status())["last_error"]["code"] == "ha_unknown_error"
    finally:
        await bridge.stop()


def high_records(transport: FakeCloudTransport) -> list[dict[str, Any]]:
    packets = [p for t, p in transport.published if t.endswith("send_sync_query_high")]
    return [r for p in packets for r in unpack(p) if r["lane"] == "high"]


async def test_new_entity_state_follows_a_refresh_whose_states_read_failed(
    tmp_path: Path,
) -> None:
    bridge, transport, ha = make_bridge(tmp_path)
    ha.set("light.a", "on")
    await bridge.start()
    try:
        await wait_for(lambda: high_records(transport), what="the first resync")
        ha.set("light.new", "on", brightness=80)  # a device announced meanwhile
        ha.fail_states = HAError("Home Assistant did not answer", "timeout")
        assert (await bridge.refresh_scope())["ok"] is False
        assert (await bridge.status())["last_error"]["code"] == "ha_timeout"
        ha.fail_states = None
        # the registry was applied already: the next refresh still owes light.new's state
        assert (await bridge.refresh_scope()) == {"ok": True, "entities": 1}
        sent = await wait_for(
            lambda: [r for r in high_records(transport) if r["entity_id"] == "light.new"],
            what="light.new's state",
        )
        assert sent[-1]["attributes"] == {"brightness": 80}
    finally:
        await bridge.stop()


async def test_outbox_write_failure_keeps_bridge_up_and_recovers_by_itself(
    tmp_path: Path,
) -> None:
    bridge, transport, ha = make_bridge(tmp_path)
    ha.own("light.x")
    await bridge.start()
    try:
        await wait_for(lambda: bridge.resyncs, what="the first resync")
        original = bridge.store.enqueue

        async def disk_full(lane: Lane, items: Any) -> list[int]:
            raise StorageError("the disk is full", "storage_full")

        bridge.store.enqueue = disk_full  # type: ignore[method-assign]
        ha.on_state("light.x", {"entity_id": "light.x", "state": "on", "attributes": {}})
        await wait_for(lambda: bridge.last_error, what="the error")
        assert (await bridge.status())["last_error"]["code"] == "storage_full"
        assert not any(r["state"] == "on" for r in high_records(transport))
        result = await bridge.resync()
        assert result["ok"] is True
        # room again (say, a drain deleted sent rows): no new event is needed, the
        # writer retries on its own, the change goes out and the error clears
        bridge.store.enqueue = original  # type: ignore[method-assign]
        await wait_for(
            lambda: any(
                r["entity_id"] == "light.x" and r["state"] == "on" for r in high_records(transport)
            ),
            timeout=10,
            what="light.x sent",
        )
        assert (await bridge.status())["last_error"] is None
    finally:
        await bridge.stop()


async def test_sync_pauses_while_publishing_fails(tmp_path: Path) -> None:
    bridge, transport, ha = make_bridge(tmp_path)
    ha.own("switch.s")
    await bridge.start()
    try:
        await wait_for(lambda: topics(transport), what="the initial snapshot")
        transport.fail_publish = TransportError("no PUBACK", "ack_timeout")
        ha.on_state("switch.s", {"entity_id": "switch.s", "state": "on", "attributes": {}})
        await wait_for(
            lambda: "inx/C-9/send_sync_query_high" in transport.attempts[1:],
            what="a failed attempt",
        )
        assert (await bridge.store.counts())["high"] == 1  # kept in the outbox
        transport.fail_publish = None
        await wait_for(lambda: sent_entities(transport), what="retry")
        assert sent_entities(transport) == ["switch.s"]

        async def outbox_empty() -> bool:  # removed from the outbox once acknowledged
            return (await bridge.store.counts())["high"] == 0

        await wait_for(outbox_empty, what="the acknowledged row to leave the outbox")
    finally:
        await bridge.stop()


def sent_entities(transport: FakeCloudTransport) -> list[str]:
    return [
        r["entity_id"]
        for t, p in transport.published
        if t.endswith("_high")
        for r in unpack(p)
        if r["lane"] == "high"
    ]


async def test_activation_publish_failure_and_odd_replies(tmp_path: Path) -> None:
    bridge, transport, _ = make_bridge(tmp_path, activation_attempts=2)
    await bridge.start()
    try:
        transport.fail_publish = TransportError("offline", "not_connected")
        outcome = await bridge.activate()
        assert outcome["success"] is False
        assert "could not publish" in outcome["reason"]
        log = await bridge.store.activation_log()
        assert [e["status"] for e in log] == ["publish_failed", "publish_failed", "gave_up"]
        transport.fail_publish = None
        bridge.activation.on_reply(b"garbage")
        bridge.activation.on_reply(encode({"status": "success", "req": "nobody"}))

        async def reply_without_req() -> None:
            await wait_for(lambda: bridge.activation._pending, what="pending request")
            bridge.activation.on_reply(encode({"status": "success"}))

        task = asyncio.create_task(reply_without_req())
        outcome = await bridge.activation.run(ActivationAction.ACTIVATE)
        await task
        assert outcome.success is True
    finally:
        await bridge.stop()


async def test_periodic_ping_and_bad_replies(tmp_path: Path) -> None:
    bridge, transport, _ = make_bridge(tmp_path, ping_interval=1)
    bridge.ping.interval = 0.05
    bridge.ping.timeout = 0.1
    await bridge.start()
    try:
        await wait_for(lambda: len(topics(transport)) >= 2, what="periodic pings")
        assert set(topics(transport)) >= {"inx/ping"}
        bridge.ping.on_reply(b"[]")
        bridge.ping.on_reply(encode({"contract_id": "C-9", "time": "t", "seq": 999}))
        transport.fail_publish = TransportError("offline", "not_connected")
        assert (await bridge.ping_now())["reason"].startswith("could not publish")
    finally:
        await bridge.stop()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def action(**overrides: Any) -> bytes:
    packet = action_packet(
        command_id="k1",
        contract_id="C-9",
        service="light.turn_on",
        entity_id="light.a",
        iat=time.time(),
        ttl=10,
    )
    return json.dumps({**packet, **overrides}).encode()


def statuses(transport: FakeCloudTransport) -> list[str]:
    return [json.loads(p)["status"] for t, p in transport.published if t == "inx/instance/return"]


@pytest.fixture
async def command_bridge(tmp_path: Path):
    bridge, transport, ha = make_bridge(tmp_path)
    await bridge.start()
    await wait_for(lambda: transport.connected, what="connected")
    await bridge.set_exposure(["light.a", "cover.c"])
    ha.set("light.a", "off")
    yield bridge, transport, ha
    await bridge.stop()


async def test_command_expiring_while_waiting_is_not_run(command_bridge) -> None:
    bridge, transport, ha = command_bridge
    handler: CommandHandler = bridge.commands
    clock = Clock()
    handler.clock = clock
    original = bridge.publisher.publish

    async def slow_publish(topic: str, payload: bytes, priority: Any) -> None:
        clock.now += 60  # the accepted result waited past the TTL
        await original(topic, payload, priority)

    handler._send = slow_publish
    await handler.handle(action(iat=clock.now))
    assert statuses(transport) == ["accepted", "expired"]
    assert ha.calls == []


async def test_command_from_the_future_and_storage_failure(command_bridge) -> None:
    bridge, transport, ha = command_bridge
    await bridge.commands.handle(action(id="f1", iat=time.time() + 3600))
    assert statuses(transport)[-1] == "rejected"

    async def broken(command_id: str, expires: float) -> bool:
        raise StorageError("disk gone", "storage_error")

    bridge.store.remember_command = broken  # type: ignore[method-assign]
    await bridge.commands.handle(action(id="f2"))
    assert statuses(transport)[-1] == "rejected"
    assert ha.calls == []


async def test_cover_timeout_and_unreadable_state(command_bridge) -> None:
    bridge, transport, ha = command_bridge
    ha.set("cover.c", "opening", current_position=10)
    bridge.commands.cover_timeout = 0.3
    await bridge.commands.handle(
        action(id="cv", service="cover.open_cover", target={"entity_id": "cover.c"})
    )
    assert statuses(transport) == ["accepted", "in_progress", "failed"]
    last = json.loads(transport.published[-1][1])
    assert "did not stop" in last["reason"]
    ha.fail_get_state = HAError("gone", "not_connected")
    await bridge.commands.handle(action(id="ok"))
    assert statuses(transport)[-1] == "succeeded"
    assert json.loads(transport.published[-1][1])["state"] is None


async def test_result_publish_failure_and_unexpected_errors(command_bridge) -> None:
    bridge, transport, ha = command_bridge
    transport.fail_publish = TransportError("offline", "not_connected")
    await bridge.commands.handle(action(id="p1"))  # logged, not raised
    transport.fail_publish = None

    async def boom() -> list[str]:
        raise RuntimeError("bug")

    bridge.store.exposure = boom  # type: ignore[method-assign]
    await bridge.commands.handle(action(id="p2"))  # logged, not raised
    bridge.commands.on_action(action(id="p3"))
    await bridge.commands.wait_idle()
    assert ha.calls == []


async def test_status_reports_certificate_expiry(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.helpers.certs import make_pki

    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    bridge, _, _ = make_bridge(
        tmp_path,
        transport="aws_iot",
        cert_file=str(pki.client_cert),
        key_file=str(pki.client_key),
        ca_file=str(pki.ca),
    )
    await bridge.start()
    try:
        expires = datetime.fromisoformat((await bridge.status())["certificate_expires"])
        assert timedelta(days=29) < expires - datetime.now(UTC) < timedelta(days=31)
    finally:
        await bridge.stop()


async def test_expired_command_ids_are_forgotten(tmp_path: Path) -> None:
    bridge, _, _ = make_bridge(tmp_path)
    await bridge.store.open()
    await bridge.store.remember_command("old", time.time() - 1)
    await bridge.store.close()
    bridge, _, _ = make_bridge(tmp_path)
    await bridge.start()
    try:
        await wait_for(lambda: bridge.last_error is None, what="started")
        # housekeeping runs at start: once it has, the id is new again
        await wait_for(
            lambda: bridge.store.remember_command("old", time.time() + 60),
            what="the expired command id to be purged",
        )
    finally:
        await bridge.stop()


async def test_readings_kept_in_memory_while_the_disk_is_full_are_bounded(
    tmp_path: Path,
) -> None:
    bridge, _, ha = make_bridge(tmp_path)
    ha.own("sensor.flow")
    await bridge.start()
    try:
        await wait_for(lambda: bridge.resyncs, what="the first resync")
        bridge.store.low_capacity = 10

        async def disk_full(lane: Lane, items: Any) -> list[int]:
            raise StorageError("the disk is full", "storage_full")

        bridge.store.enqueue = disk_full  # type: ignore[method-assign]
        for value in range(25):
            ha.on_state("sensor.flow", {"entity_id": "sensor.flow", "state": str(value)})
            await asyncio.sleep(0)
        await wait_for(lambda: bridge.sync.dropped_low >= 15, what="the oldest dropped")
        assert bridge.sync.dropped_low == 15
        assert (await bridge.status())["outbox"]["dropped_low"] == 15
    finally:
        await bridge.stop()


@contextlib.asynccontextmanager
async def running_with(tmp_path: Path, *lights: str) -> AsyncIterator[FakeCloudTransport]:
    """A bridge on `tmp_path`'s data whose HA has `lights` on; stopped on exit."""
    bridge, transport, ha = make_bridge(tmp_path)
    for light in lights:
        ha.set(light, "on")
    await bridge.start()
    try:
        yield transport
    finally:
        await bridge.stop()


async def test_entity_that_left_the_scope_while_the_bridge_was_down_is_removed(
    tmp_path: Path,
) -> None:
    def sent(transport: FakeCloudTransport, entity_id: str) -> list[dict[str, Any]]:
        return [r for r in high_records(transport) if r["entity_id"] == entity_id]

    async with running_with(tmp_path, "light.kept", "light.gone") as transport:
        await wait_for(lambda: sent(transport, "light.gone"), what="light.gone synced")
    # while the bridge is down, light.gone leaves HA (or stops being exposed)
    async with running_with(tmp_path, "light.kept") as transport:
        removed = await wait_for(lambda: sent(transport, "light.gone"), what="the removal")
        assert removed[-1]["state"] is None
        assert all(r["state"] == "on" for r in sent(transport, "light.kept"))
    # and once the cloud was told, a third start does not tell it again
    async with running_with(tmp_path, "light.kept") as transport:
        await wait_for(lambda: sent(transport, "light.kept"), what="light.kept resynced")
        assert not sent(transport, "light.gone")
