"""The store channel end to end on a real folder and a real S3 server (moto_server):
command files in, results out, each command under a durable execution record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
import hashlib
import json
from pathlib import Path
import time
from typing import Any

import pytest

from cloud_bridge.command_handler import CommandHandler
from cloud_bridge.protocol.action_packets import action_packet
from cloud_bridge.protocol.packets import encode
from cloud_bridge.protocol.topics import Topics
from tests.bridge.store_channel_fixtures import Rig, channel_rig
from tests.helpers.s3_server import S3Server, running_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture(params=["folder", "s3"])
async def rig(request: pytest.FixtureRequest, tmp_path: Path, s3: S3Server) -> AsyncIterator[Rig]:
    server = s3 if request.param == "s3" else None
    async with channel_rig(tmp_path, request.param, server) as running:
        yield running


def version_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def test_commands_run_in_order_and_one_failing_fails_alone(rig: Rig) -> None:
    body = await rig.put_commands(
        [
            "get_status()",
            "call_service('light.turn_on', 'light.kitchen', {'brightness': 128})",
            "reboot_home()",
            "ping()",
            "get_states(['light.kitchen'])",
        ]
    )
    assert await rig.channel.poll_once() == "ran"
    result = await rig.wait_result(version_of(body))
    statuses = [c["status"] for c in result["commands"]]
    assert statuses == ["ok", "ok", "error", "ok", "ok"]
    assert rig.ha.calls == [
        ("light", "turn_on", {"brightness": 128}, {"entity_id": "light.kitchen"})
    ]
    assert "unknown command 'reboot_home'" in result["commands"][2]["result"]
    assert json.loads(result["commands"][0]["result"])["instance_id"] == "home-1"
    states = json.loads(result["commands"][4]["result"])
    assert [s["entity_id"] for s in states] == ["light.kitchen"]
    assert result["general_status"] == "error"
    assert result["general_error"].startswith("1 of 5 commands failed")
    assert isinstance(result["execution_id"], int)


async def test_an_unchanged_file_is_not_downloaded_again(rig: Rig) -> None:
    body = await rig.put_commands(["ping()"])
    assert await rig.channel.poll_once() == "ran"
    await rig.wait_result(version_of(body))
    downloaded = getattr(rig.channel.incoming, "bytes_in", None)
    outcomes = [await rig.channel.poll_once() for _ in range(5)]
    assert outcomes == ["unchanged"] * 5
    if downloaded is not None:  # S3: five requests, each a 304 with no body
        assert rig.channel.incoming.bytes_in == downloaded  # type: ignore[attr-defined]


async def test_a_done_version_is_never_run_again(rig: Rig) -> None:
    body = await rig.put_commands(["call_service('light.turn_on', 'light.kitchen', {})"])
    assert await rig.channel.poll_once() == "ran"
    await rig.put_raw(body)  # the same file written again (a new mtime on a folder)
    assert await rig.channel.poll_once() in ("unchanged", "already_done")
    assert len(rig.ha.calls) == 1


async def test_a_file_past_its_ttl_is_reported_expired_and_not_run(rig: Rig) -> None:
    body = await rig.put_commands(
        ["call_service('light.turn_on', 'light.kitchen', {})"],
        issued_at=time.time() - 7200,
        ttl=3600,
    )
    assert await rig.channel.poll_once() == "expired"
    result = await rig.wait_result(version_of(body))
    assert result["general_status"] == "expired"
    assert "ttl 3600 s" in result["general_error"]
    assert rig.ha.calls == []


async def _mqtt_reason(rig: Rig, service: str, entity_id: str, data: dict[str, Any]) -> str:
    """What the MQTT command path answers for the same call."""
    sent: list[bytes] = []

    async def send(topic: str, payload: bytes, priority: Any) -> None:
        sent.append(payload)

    handler = CommandHandler(
        rig.store,
        rig.ha,
        Topics.for_contract("C-1"),
        contract_id="C-1",
        instance_id="home-1",
        send=send,
    )
    packet = action_packet(
        command_id="m1",
        contract_id="C-1",
        service=service,
        entity_id=entity_id,
        data=data,
        iat=time.time(),
    )
    await handler.handle(encode(packet))
    (result,) = [json.loads(p) for p in sent]
    assert result["status"] == "rejected"
    return str(result["reason"])


@pytest.mark.parametrize(
    ("service", "entity_id", "data"),
    [
        ("light.turn_on", "light.hidden", {}),
        ("homeassistant.restart", "light.kitchen", {}),
        ("switch.turn_on", "light.kitchen", {}),
        ("light.turn_on", "light.kitchen", {"entity_id": "light.hidden"}),
    ],
    ids=["unexposed", "forbidden", "other-domain", "second-target"],
)
async def test_call_service_is_refused_exactly_as_over_mqtt(
    rig: Rig, service: str, entity_id: str, data: dict[str, Any]
) -> None:
    body = await rig.put_commands([f"call_service({service!r}, {entity_id!r}, {data!r})"])
    assert await rig.channel.poll_once() == "ran"
    (command,) = (await rig.wait_result(version_of(body)))["commands"]
    assert command["status"] == "error"
    assert command["result"] == f"rejected: {await _mqtt_reason(rig, service, entity_id, data)}"
    assert rig.ha.calls == []


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"command": "ping()"}', "not a JSON list"),
        (b'["ping()"]', "entry 1 is not an object"),
        (b"[" + b'{"command": "ping()"},' * 600_000 + b"{}]", "more than"),
        (_nested(5000), "nested deeper"),
    ],
    ids=["not-json", "not-a-list", "strings-not-objects", "10-MB", "deeply-nested"],
)
async def test_a_malformed_file_is_refused_whole_and_changes_nothing(
    rig: Rig, body: bytes, error: str
) -> None:
    await rig.put_raw(body)
    assert await rig.channel.poll_once() == "refused"
    result = await rig.wait_result(
        version_of(body) if len(body) < 2**20 else (await _too_large_version(rig))
    )
    assert result["general_status"] == "error"
    assert error in result["general_error"]
    assert result["commands"] == []
    assert rig.ha.calls == []
    assert rig.resyncs == []
    assert await rig.channel.poll_once() == "unchanged"  # refused once, not again and again


async def _too_large_version(rig: Rig) -> str:
    result = await rig.result()
    assert result is not None
    assert str(result["file_version"]).startswith("too-large:")
    return str(result["file_version"])


@pytest.mark.parametrize(
    "command",
    [
        "call_service(__import__('os').system('touch /tmp/x'), 'light.kitchen', {})",
        "call_service('light.turn_on', 'light.kitchen', {'brightness': 2 ** 8})",
        "call_service('light.turn_on', entity, {})",
        "get_status().__class__",
        "ping(1)",
        "call_service('light.turn_on', 'light.kitchen', data={})",
    ],
    ids=["call", "expression", "name", "attribute", "too-many", "keyword"],
)
async def test_a_non_literal_command_is_refused_and_runs_nothing(rig: Rig, command: str) -> None:
    body = await rig.put_commands([command, "ping()"])
    assert await rig.channel.poll_once() == "ran"
    result = await rig.wait_result(version_of(body))
    first, second = result["commands"]
    assert first["status"] == "error"
    assert second["status"] == "ok"
    assert result["general_error"].startswith("1 of 2 commands failed")
    assert rig.ha.calls == []


async def test_export_diagnostics_uploads_a_redacted_document(rig: Rig) -> None:
    body = await rig.put_commands(["export_diagnostics()"])
    await rig.channel.poll_once()
    (command,) = (await rig.wait_result(version_of(body)))["commands"]
    reference = json.loads(command["result"])
    fetched = await rig.cloud_status.get(reference["key"])
    assert fetched is not None
    assert hashlib.sha256(fetched.data).hexdigest() == reference["sha256"]
    assert json.loads(fetched.data)["config"]["instance_password"] == "**REDACTED**"


async def test_a_file_resumed_after_its_ttl_runs_nothing_more(rig: Rig) -> None:
    # as a bridge that was killed mid-file and came back after the file's ttl finds it
    run = await rig.channel.ledger.create(
        "inspextor/commands.json",
        "version-resumed-late",
        ["call_service('light.turn_on', 'light.kitchen', {})", "ping()"],
        expires=time.time() - 1,
    )
    await rig.channel.resume()
    assert [s.status for s in await rig.channel.ledger.steps(run.id)] == ["expired"] * 2
    assert rig.ha.calls == []
    result = await rig.wait_result("version-resumed-late")
    assert result["commands"][0]["result"].startswith("expired: the file's ttl ended")
