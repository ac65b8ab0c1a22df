"""What /api/status says when parts fail (issue 11): one error per part, the most severe
as `last_error`, a kick-loop latch that clears, and the log lines of the connection."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge.__main__ import exit_code
from cloud_bridge.bridge import Bridge
from cloud_bridge.config import parse_options
from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.factory import build_bridge
from cloud_bridge.ha.base import HAError
from cloud_bridge.protocol.action_packets import action_packet
from cloud_bridge.protocol.packing import unpack
from cloud_bridge.transport.base import ConnectionState, TransportError
from tests.bridge.fakes import FakeCloudTransport, FakeHomeAssistant
from tests.helpers.clock import SteppedClock
from tests.helpers.polling import wait_for


def make(
    tmp_path: Path, clock: SteppedClock | None = None, **overrides: Any
) -> tuple[Bridge, FakeCloudTransport, FakeHomeAssistant]:
    options = {
        "contract_id": "C-7",
        "instance_id": "home-7",
        "instance_password": "pw-7777",
        "transport": "mqtt",
        "endpoint": "cloud.example",
        "port": 8884,
        "ha_token": "token-7",
        "data_dir": str(tmp_path),
        "ping_interval": 0,
        "activation_timeout": 0.05,
        "activation_attempts": 2,
        **overrides,
    }
    transport, ha = FakeCloudTransport(), FakeHomeAssistant()
    bridge = build_bridge(
        parse_options(options, {}),
        transport=transport,
        ha=ha,
        api_token="t",
        serve_api=False,
        **({"clock": clock} if clock else {}),
    )
    return bridge, transport, ha


async def test_cloud_error_is_not_hidden_by_the_ha_error(tmp_path: Path) -> None:
    """Cloud port wrong and HA down: every poll used to say ha_cannot_connect."""
    bridge, transport, ha = make(tmp_path)
    transport.connect_failures = 1000
    ha.connected = False
    ha.last_error = HAError("cannot reach Home Assistant at ws://ha:8123", "cannot_connect")
    await bridge.start()
    try:
        for _ in range(5):
            status = await bridge.status()
            assert status["last_error"]["code"] == "connect_failed"
            assert status["last_error"]["part"] == "cloud"
            assert status["errors"]["cloud"]["reason"] == "endpoint refused the connection"
            assert status["errors"]["ha"]["code"] == "ha_cannot_connect"
            assert status["errors"]["storage"] is None
            assert status["errors"]["activation"] is None
    finally:
        await bridge.stop()


async def test_each_part_keeps_its_error_until_it_is_well(tmp_path: Path) -> None:
    bridge, transport, ha = make(tmp_path)
    await bridge.start()
    try:
        await wait_for(lambda: transport.connected, what="connected")
        ha.fail_reads = HAError("registry unavailable", "unknown_error")
        await bridge.resync()
        transport.emit(ConnectionState.INTERRUPTED, "server_hangup", "the server hung up")
        status = await bridge.status()
        assert status["last_error"]["code"] == "server_hangup"  # the cloud ranks first
        assert status["errors"]["ha"]["code"] == "ha_unknown_error"
        transport.emit(ConnectionState.CONNECTED)
        status = await bridge.status()
        assert status["errors"]["cloud"] is None
        assert status["last_error"]["code"] == "ha_unknown_error"  # still true: shown
        ha.fail_reads = None
        assert (await bridge.resync())["ok"] is True
        assert (await bridge.status())["last_error"] is None
    finally:
        await bridge.stop()


async def test_kick_loop_clears_after_a_minute_connected(tmp_path: Path) -> None:
    clock = SteppedClock()
    bridge, transport, _ = make(tmp_path, clock)
    await bridge.start()
    try:
        await wait_for(lambda: transport.connected, what="connected")
        transport.emit(ConnectionState.INTERRUPTED, "duplicate_client_id", "kicked")
        transport.emit(ConnectionState.CONNECTED)
        clock.step(59)
        status = await bridge.status()
        assert status["kick_loop"] is True
        assert status["last_error"]["code"] == "duplicate_client_id"
        clock.step(2)  # 61 s connected: the other client has gone
        status = await bridge.status()
        assert status["kick_loop"] is False
        assert status["last_error"] is None
        transport.emit(ConnectionState.INTERRUPTED, "duplicate_client_id", "kicked again")
        assert (await bridge.status())["kick_loop"] is True
    finally:
        await bridge.stop()


async def test_activation_while_not_connected_says_so(tmp_path: Path) -> None:
    bridge, transport, _ = make(tmp_path)
    await bridge.start()
    try:
        transport.fail_publish = TransportError("not connected to cloud.example", "not_connected")
        outcome = await bridge.activate()
        assert outcome["success"] is False
        assert outcome["code"] == "not_connected"
        assert "not connected to the cloud" in outcome["reason"]
        assert exit_code(200, outcome) == 4
        assert (await bridge.status())["errors"]["activation"]["code"] == "not_connected"
        transport.fail_publish = None
        outcome = await bridge.activate()  # sent, nobody answers
        assert outcome["code"] == "no_reply"
        assert exit_code(200, outcome) == 5
    finally:
        await bridge.stop()


async def test_connected_and_reconnected_are_logged_once_with_endpoint_and_client_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cloud_bridge")
    bridge, transport, _ = make(tmp_path, client_id="thing-7")
    await bridge.start()
    try:
        await wait_for(lambda: transport.connected, what="connected")
        transport.emit(ConnectionState.INTERRUPTED, "server_hangup", "the server hung up")
        transport.emit(ConnectionState.CONNECTED)
        transport.emit(ConnectionState.CONNECTED)  # the same connection, said again
    finally:
        await bridge.stop()
    lines = [r.getMessage() for r in caplog.records if "to the cloud at" in r.getMessage()]
    assert lines == [
        "connected to the cloud at cloud.example:8884 as client id thing-7",
        "reconnected to the cloud at cloud.example:8884 as client id thing-7",
    ]


async def test_a_clean_stop_is_no_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bridge, transport, _ = make(tmp_path)
    await bridge.start()
    await wait_for(lambda: transport.connected, what="connected")
    caplog.set_level(logging.INFO, logger="cloud_bridge")
    await bridge.stop()
    transport.emit(ConnectionState.DISCONNECTED, None, "disconnected")  # what transports send
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("the bridge is stopping" in r.getMessage() for r in caplog.records)


async def test_repeated_connect_failures_are_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloud_bridge")
    bridge, transport, _ = make(tmp_path)
    transport.connect_failures = 2
    await bridge.start()
    try:
        await wait_for(lambda: transport.connected, timeout=10, what="third attempt")
    finally:
        await bridge.stop()
    said = [r for r in caplog.records if "cannot connect to the cloud" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.WARNING, logging.DEBUG]


async def test_one_clock_stamps_records_pings_and_results(tmp_path: Path) -> None:
    """Every time the bridge writes or decides by comes from the injected clock."""
    clock = SteppedClock(start=1_900_000_000.0)
    bridge, transport, ha = make(tmp_path, clock, high_window=0.05)
    ha.set("light.a", "on")
    await bridge.start()
    try:
        await wait_for(lambda: high_records(transport), what="the light synced")
        assert {r["ts"] for r in high_records(transport)} == {1_900_000_000.0}
        await bridge.set_exposure(["light.a"])
        packet = action_packet(
            command_id="c1",
            contract_id="C-7",
            service="light.turn_on",
            entity_id="light.a",
            iat=clock.now - 100,  # 100 s old of 300 by the injected clock
            ttl=300,
        )
        await bridge.commands.handle(json.dumps(packet).encode())
        results = [json.loads(p) for t, p in transport.published if t == "inx/instance/return"]
        assert [r["status"] for r in results] == ["accepted", "succeeded"]
        assert {r["ts"] for r in results} == {1_900_000_000.0}
        clock.step(301)  # another command issued at the same time: now past its TTL
        await bridge.commands.handle(json.dumps({**packet, "id": "c2"}).encode())
        assert json.loads(transport.published[-1][1])["status"] == "expired"
    finally:
        await bridge.stop()


def high_records(transport: FakeCloudTransport) -> list[dict[str, Any]]:
    packets = [p for t, p in transport.published if t.endswith("send_sync_query_high")]
    return [r for p in packets for r in unpack(p) if r["lane"] == "high"]


def test_error_state_ranks_parts_and_clears_only_the_given_codes() -> None:
    clock = SteppedClock(start=100.0)
    errors = ErrorState(clock)
    errors.report(Part.ACTIVATION, "refused", "the contract expired")
    errors.report(Part.STORAGE, "storage_full", "the disk is full")
    worst = errors.most_severe
    assert worst is not None
    assert (worst.part, worst.at) == (Part.STORAGE, 100.0)
    errors.clear(Part.STORAGE, ("storage_readonly",))  # not that error: it stays
    assert errors.get(Part.STORAGE) is not None
    errors.clear(Part.STORAGE)
    assert errors.get(Part.STORAGE) is None
    assert errors.as_dict()["activation"] == {
        "code": "refused",
        "reason": "the contract expired",
        "at": 100.0,
    }
