"""Command validation, results, exposure policy, topics and control packets."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from cloud_bridge.protocol.action_packets import (
    CommandError,
    CommandStatus,
    action_packet,
    parse_command,
    result_packet,
)
from cloud_bridge.protocol.exposure import decide
from cloud_bridge.protocol.packets import (
    ActivationAction,
    InstanceIdentity,
    PacketError,
    activation_reply,
    activation_request,
    decode,
    parse_activation_reply,
    parse_activation_request,
    parse_ping_reply,
    parse_sync_packet,
    ping_reply,
    ping_request,
)
from cloud_bridge.protocol.records import Lane, RecordError, state_record, validate_record
from cloud_bridge.protocol.topics import Topics, contract_of


def command(**overrides: Any) -> dict[str, Any]:
    base = action_packet(
        command_id="cmd-1",
        contract_id="C-1",
        service="light.turn_on",
        entity_id="light.kitchen",
        data={"brightness": 128},
        iat=1000.0,
        ttl=30,
        origin="mobile",
    )
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def test_valid_command_parses() -> None:
    cmd = parse_command(json.dumps(command()).encode())
    assert (cmd.id, cmd.domain, cmd.service_name, cmd.entity_id) == (
        "cmd-1",
        "light",
        "turn_on",
        "light.kitchen",
    )
    assert cmd.data == {"brightness": 128}
    assert not cmd.is_expired(1030.0)
    assert cmd.is_expired(1030.5)
    assert not cmd.is_expired(1031.0, skew=2.0)
    one_list = parse_command(command(target={"entity_id": ["light.x"]}, data=None))
    assert one_list.entity_id == "light.x"
    assert one_list.data == {}


@pytest.mark.parametrize(
    ("overrides", "reason", "has_id"),
    [
        ({"id": ...}, "id must be", False),
        ({"id": "x" * 129}, "id must be", False),
        ({"c": "Sync"}, "c must be", True),
        ({"cid": ""}, "cid must be", True),
        ({"iat": "yesterday"}, "iat must be a number", True),
        ({"iat": float("inf")}, "finite", True),
        ({"ttl": True}, "ttl must be a number", True),
        ({"ttl": 0}, "ttl must be positive", True),
        ({"ttl": 301}, "must not exceed 300", True),
        ({"origin": "email"}, "origin must be", True),
        ({"service": "light"}, "domain.service", True),
        ({"target": "light.kitchen"}, "target must be an object", True),
        ({"target": {"entity_id": ["light.a", "light.b"]}}, "exactly one", True),
        ({"target": {"entity_id": "light.a", "area_id": "x"}}, "only name entity_id", True),
        ({"target": {"entity_id": "Kitchen"}}, "entity id like", True),
        ({"data": [1]}, "data must be an object", True),
        ({"data": {"entity_id": "lock.front"}}, "must not name targets", True),
    ],
)
def test_malformed_commands_give_precise_reasons(
    overrides: dict[str, Any], reason: str, has_id: bool
) -> None:
    with pytest.raises(CommandError, match=reason) as info:
        parse_command(command(**overrides))
    assert (info.value.command_id is not None) is has_id


@pytest.mark.parametrize("payload", [b"\xff\xfe", b"[1,2]", b"nope", "[" * 5000])
def test_non_object_payloads(payload: bytes | str) -> None:
    with pytest.raises(CommandError):
        parse_command(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["c", "a", "id", "cid", "iat", "ttl", "origin", "service", "target", "data", "x"]
        ),
        json_values,
    )
)
def test_parse_never_raises_anything_but_command_error(fields: dict[str, Any]) -> None:
    packet = command()
    packet.update(fields)
    error: CommandError | None = None
    try:
        parse_command(packet)
    except CommandError as err:
        error = err
    assert error is None or error.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parse_random_bytes(data: bytes) -> None:
    with pytest.raises(CommandError):
        parse_command(data)


def test_result_packet_never_carries_the_password() -> None:
    packet = result_packet(
        command_id="cmd-1",
        contract_id="C-1",
        instance_id="I-1",
        status=CommandStatus.SUCCEEDED,
        ts=5.0,
        state={"entity_id": "light.k", "state": "on", "attributes": {}, "context": {"id": "x"}},
    )
    assert packet["status"] == "succeeded"
    assert packet["ta"] == "return"
    assert packet["state"] == {"entity_id": "light.k", "state": "on", "attributes": {}}
    assert "ips" not in packet
    assert "instancePass" not in packet
    none = result_packet(
        command_id="c", contract_id="C", instance_id="I", status=CommandStatus.EXPIRED, ts=1.0
    )
    assert none["state"] is None


@pytest.mark.parametrize(
    ("service", "entity", "allowed", "reason"),
    [
        ("light.turn_on", "light.kitchen", True, "exposed"),
        ("light.turn_on", "light.hall", False, "not exposed"),
        ("switch.turn_on", "light.kitchen", False, "does not belong"),
        ("homeassistant.restart", "light.kitchen", False, "never allowed"),
        ("shell_command.x", "light.kitchen", False, "never allowed"),
        ("script.turn_on", "script.boom", False, "never allowed"),
        ("light", "light.kitchen", False, "not a domain.service"),
        ("automation.trigger", "automation.a", False, "never allowed"),
    ],
)
def test_exposure_is_default_deny(service: str, entity: str, allowed: bool, reason: str) -> None:
    decision = decide(service, entity, {"light.kitchen", "script.boom", "automation.a"})
    assert decision.allowed is allowed
    assert reason in decision.reason


def test_exposure_refuses_forbidden_entity_domain_with_matching_service() -> None:
    decision = decide("notify.send_message", "notify.phone", {"notify.phone"})
    assert not decision.allowed


def test_topics() -> None:
    t = Topics.for_contract("C-1")
    assert t.home_subscriptions == ("inx/C-1/activate", "inx/C-1/ping", "inx/C-1/action")
    assert (t.activate, t.activate_cloud, t.ping, t.ping_cloud, t.result) == (
        "inx/activate",
        "inx/activate/cloud",
        "inx/ping",
        "inx/ping/cloud",
        "inx/instance/return",
    )
    assert t.sync_topic("structure") == t.sync_topic("high") == "inx/C-1/send_sync_query_high"
    assert t.sync_topic("low") == "inx/C-1/send_sync_query_low"
    for bad in ("", "a/b", "+", "#"):
        with pytest.raises(ValueError, match="topic level"):
            Topics.for_contract(bad)
    assert contract_of("inx/C-1/action") == ("C-1", "action")
    assert contract_of("inx/C-1/a/b") is None
    assert contract_of("other/C-1/action") is None


IDENTITY = InstanceIdentity("C-1", "I-1", "pw", name="Home", location="Oslo", phone="1")


def test_activation_round_trip() -> None:
    req = activation_request(IDENTITY, ActivationAction.DEREGISTER, "r1", 2)
    assert req["a"] == "deregisterInstanceAction"
    assert req["ta"] == "activate"
    assert req["contractID"] == "C-1"
    assert req["instancePass"] == "pw"
    parsed = parse_activation_request(req)
    assert parsed.identity == IDENTITY
    assert (parsed.req, parsed.attempt) == ("r1", 2)
    reply = parse_activation_reply(
        activation_reply(
            ActivationAction.ACTIVATE,
            "r1",
            success=True,
            subscription_state="active",
            subscription_expires="2027-01-01T00:00:00Z",
        )
    )
    assert reply.success
    assert reply.subscription_state == "active"
    failed = parse_activation_reply(
        activation_reply(ActivationAction.ACTIVATE, "r1", success=False, reason="bad password")
    )
    assert (failed.success, failed.reason) == (False, "bad password")


@pytest.mark.parametrize(
    "packet",
    [
        {"c": "Sync", "ta": "x", "a": "activate"},
        {"c": "Sync", "ta": "activate", "a": "dance"},
        {"c": "Sync", "ta": "activate", "a": "activate", "instanceId": "I", "contractID": ""},
        {**activation_request(IDENTITY, ActivationAction.ACTIVATE, "r", 1), "attempt": 0},
    ],
)
def test_activation_request_errors(packet: dict[str, Any]) -> None:
    with pytest.raises(PacketError):
        parse_activation_request(packet)


@pytest.mark.parametrize(
    "packet",
    [
        {"status": "maybe"},
        {"status": "success", "subscription": []},
        {"status": "success", "subscription": {"state": "gold"}},
        {"status": "success", "subscription": {"state": "active", "expires": 5}},
    ],
)
def test_activation_reply_errors(packet: dict[str, Any]) -> None:
    with pytest.raises(PacketError):
        parse_activation_reply(packet)


def test_ping_round_trip_and_errors() -> None:
    req = ping_request("C-1", 0.0, 17)
    assert req == {"contract_id": "C-1", "time": "1970-01-01T00:00:00Z", "seq": 17}
    reply = parse_ping_reply(ping_reply(req, 1.5))
    assert (reply.seq, reply.ok, reply.time) == (17, True, "1970-01-01T00:00:00Z")
    assert reply.server_time == "1970-01-01T00:00:01.500000Z"
    with pytest.raises(PacketError):
        parse_ping_reply({"contract_id": "C", "time": "t", "seq": "x"})
    with pytest.raises(PacketError):
        parse_ping_reply({"time": "t"})


@pytest.mark.parametrize("payload", [b"{", b"[]", b"\xff"])
def test_decode_errors(payload: bytes) -> None:
    with pytest.raises(PacketError):
        decode(payload)


@pytest.mark.parametrize(
    "record",
    [
        [],
        {"lane": "x", "seq": 1, "ts": 1},
        {"lane": "low", "seq": True, "ts": 1},
        {"lane": "low", "seq": 1, "ts": "now"},
        {"lane": "structure", "seq": 1, "ts": 1, "kind": "diff"},
        {"lane": "structure", "seq": 1, "ts": 1, "kind": "snapshot", "areas": {}},
        {"lane": "low", "seq": 1, "ts": 1, "entity_id": ""},
        {"lane": "low", "seq": 1, "ts": 1, "entity_id": "s.a", "state": 5},
        {"lane": "low", "seq": 1, "ts": 1, "entity_id": "s.a", "state": "5", "attributes": []},
    ],
)
def test_invalid_records(record: object) -> None:
    with pytest.raises(RecordError):
        validate_record(record)
    with pytest.raises(RecordError):
        state_record(Lane.STRUCTURE, seq=1, ts=1, entity_id="a.b", state="x", attributes={})


@pytest.mark.parametrize(
    "changes",
    [
        {"a": "other"},
        {"lane": "medium"},
        {"ta": "send_sync_query_low"},
        {"part": 3},
        {"seq_first": 10},
        {"seq_last": "x"},
    ],
)
def test_sync_packet_errors(changes: dict[str, Any]) -> None:
    packet = {
        "c": "Sync",
        "a": "setQueryFile",
        "cid": "C",
        "iid": "I",
        "ips": "P",
        "content": "eA==",
        "fn": "1_D_H_C.zip",
        "ta": "send_sync_query_high",
        "lane": "high",
        "seq_first": 1,
        "seq_last": 2,
        "part": 1,
        "parts": 2,
    }
    parse_sync_packet(packet)
    packet.update(changes)
    with pytest.raises(PacketError):
        parse_sync_packet(packet)
