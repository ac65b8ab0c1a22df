"""A live bridge process under hostile input, and the canary secrets it must never leak.

The bridge runs the production transport (awsiotsdk, mutual TLS) against a Mosquitto that
requires client certificates; the ledger listens on a second, plain listener of the same
broker. Everything runs with known canary secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import random
import socket
from typing import Any

import aiohttp
import pytest

from cloud_bridge.config import parse_options
from cloud_bridge.protocol.action_packets import MAX_ID_LENGTH
from cloud_bridge.protocol.packing import unzip_records
from tests.helpers.certs import PKI, make_pki
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker, free_port, running_broker
from tests.helpers.polling import wait_for
from tests.reliability import table
from tests.reliability.harness import (
    AUTH,
    CANARY_API_TOKEN,
    CANARY_HA_TOKEN,
    CANARY_PASSWORD,
    CONTRACT,
    BridgeProcess,
    action,
    bridge_options,
    own,
    start_ledger,
)

FORBIDDEN = [
    "hassio.host_shutdown",
    "hassio.addon_stdin",
    "shell_command.wipe",
    "homeassistant.stop",
    "homeassistant.restart",
    "homeassistant.turn_on",
    "python_script.evil",
    "pyscript.evil",
    "script.turn_on",
    "automation.trigger",
    "recorder.purge",
    "backup.create",
    "notify.notify",
    "rest_command.call",
    "persistent_notification.create",
    "logger.set_level",
    "system_log.clear",
    "lock.unlock",  # another domain's service on the exposed light
]
ODD_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    1e308,
    "",
    "x" * 200_000,
    [],
    {},
    [[[[[[[[[[[[["deep"]]]]]]]]]]]]],
    {"entity_id": ["light.ok", "light.other"]},
    "\udcff\ud800",
]
FIELDS = ["c", "a", "id", "cid", "iat", "ttl", "origin", "service", "target", "data"]
EXPOSED = "light.ok"


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    (tmp_path / "pki").mkdir()
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_broker(pki: PKI) -> Iterator[tuple[Broker, int]]:
    """Mutual TLS for the bridge; a plain second listener for the ledger."""
    plain = free_port()
    with running_broker(
        tls=pki.broker_files, extra_conf=f"listener {plain} 127.0.0.1\nallow_anonymous true\n"
    ) as broker:
        yield broker, plain


def hostile_packets(rng: random.Random) -> list[tuple[bytes, str | None]]:
    """(payload, the command id a result must carry or None when no result is due)."""
    out: list[tuple[bytes, str | None]] = []
    for i, service in enumerate(FORBIDDEN):
        out.append(
            (json.dumps(action(f"forbidden-{i}", EXPOSED, service)).encode(), f"forbidden-{i}")
        )
    out.append(
        (json.dumps(action("not-exposed", "light.other", "light.turn_on")).encode(), "not-exposed")
    )
    out.append(
        (json.dumps(action("other-cid", EXPOSED, "light.turn_on", cid="C-999")).encode(), None)
    )
    out.append((json.dumps({**action("", EXPOSED, "light.turn_on")}).encode(), None))
    out.append((b'{"id": "bad-utf8", "cid": "' + CONTRACT.encode() + b'", "c": "\xff\xfe"}', None))
    out.append((b"[" * 100_000 + b"]" * 100_000, None))
    out.append((b"\x00" * 300_000, None))
    for i in range(200):
        packet: dict[str, Any] = action(f"fuzz-{i}", "light.other", "light.turn_on")
        for field in rng.sample(FIELDS, rng.randint(1, 3)):
            packet[field] = rng.choice(ODD_VALUES)
        command_id = packet.get("id")
        valid_id = isinstance(command_id, str) and 0 < len(command_id) <= MAX_ID_LENGTH
        cid = packet.get("cid")
        foreign = isinstance(cid, str) and cid != CONTRACT
        expected = command_id if valid_id and not foreign else None
        out.append((json.dumps(packet).encode("utf-8", "surrogatepass"), expected))
    return out


def non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent: only picks the route
        except OSError:
            return None
        address = str(sock.getsockname()[0])
    return None if address.startswith("127.") else address


async def test_hostile_input_and_canary_secrets(
    tmp_path: Path, tls_broker: tuple[Broker, int], pki: PKI, fake_ha: FakeHA
) -> None:
    broker, plain_port = tls_broker
    own(fake_ha, EXPOSED, "sensor.energy")
    fake_ha.add_entity("light.other", platform="hue")
    fake_ha.set_state(EXPOSED, "off", {"brightness": None})
    fake_ha.set_state("light.other", "off")
    fake_ha.set_state("sensor.energy", "1")
    ledger_broker = Broker(broker.host, plain_port, broker.process, broker.workdir)
    ledger = await start_ledger(ledger_broker)
    options = bridge_options(
        tmp_path,
        broker,
        fake_ha.url,
        fake_ha.token,
        transport="aws_iot",
        endpoint="localhost",
        cert_file=str(pki.client_cert),
        key_file=str(pki.client_key),
        ca_file=str(pki.ca),
        activation_timeout=0.3,
    )
    bridge = BridgeProcess(tmp_path, options)
    packets = hostile_packets(random.Random(11))
    status_codes: list[int] = []
    async with aiohttp.ClientSession() as session:
        bridge.start()
        try:
            await bridge.ready(session, timeout=120)  # TLS and coverage on a loaded host
            code, _ = await bridge.api(session, "PUT", "/api/exposure", {"entities": [EXPOSED]})
            assert code == 200
            for payload, _ in packets:
                await ledger.send(f"inx/{CONTRACT}/action", payload)
            for topic in (f"inx/{CONTRACT}/activate", f"inx/{CONTRACT}/ping"):
                for payload, _ in packets[-60:]:
                    await ledger.send(topic, payload)
            due = [command_id for _, command_id in packets if command_id]
            try:
                await wait_for(
                    lambda: all(ledger.results_for(c) for c in due),
                    timeout=120,
                    what="a result for every hostile command with an id",
                )
            except AssertionError:
                missing = [c for c in due if not ledger.results_for(c)]
                print("MISSING", missing[:10], len(missing), len(due))
                print([p[:300] for p, c in packets if c in missing[:5]])
                print(bridge.log_text()[-6000:])
                raise
            # local API: refused without or with a wrong token, or with a hostile body
            status_codes += await local_api_abuse(session, bridge)
            # the pipeline still works: one valid command runs, once
            valid = action("valid-1", EXPOSED, "light.turn_on", data={"brightness": 99})
            await ledger.send(f"inx/{CONTRACT}/action", json.dumps(valid).encode())
            await wait_for(
                lambda: any(r["status"] == "succeeded" for r in ledger.results_for("valid-1")),
                what="the valid command",
            )
            # things that carry the password or reasons, for the secrets check
            await bridge.api(session, "POST", "/api/activate")
            fake_ha.set_state("sensor.energy", "2")
            await wait_for(lambda: len(ledger.lane("low")) >= 2, what="sensor readings synced")
            status = await bridge.status(session)
            assert status is not None
        finally:
            bridge.stop()
    await ledger.close()

    calls = [f"{c.domain}.{c.service}" for c in fake_ha.service_calls]
    results = {c: ledger.results_for(c) for _, c in packets if c}
    unanswered = [c for c, r in results.items() if not r]
    not_rejected = [c for c, r in results.items() if r and r[0]["status"] != "rejected"]
    no_reason = [c for c, r in results.items() if r and not r[0]["reason"]]
    leaks = find_leaks(bridge, ledger, status, pki)
    table.record(
        "hostile action packets, replies and local API requests (live bridge)",
        len(packets) + 120 + len(status_codes),
        len(unanswered),
        0,
        bridge.crashes,
        f"{len(FORBIDDEN)} forbidden services; HA calls: {calls}",
    )
    table.record(
        "canary secrets in log, status, results, sync files",
        4,
        len(leaks),
        0,
        bridge.crashes,
        "allowed by contract: sync packet `ips`, activation `instancePass`",
    )
    assert calls == ["light.turn_on"], calls
    assert fake_ha.service_calls[0].entity_ids == [EXPOSED]
    assert not unanswered
    assert not not_rejected, [(c, results[c][0]["status"]) for c in not_rejected]
    assert not no_reason
    # nothing without an id, or for another contract, was answered
    assert {r["id"] for r in ledger.results} == {*results, "valid-1"}
    assert all(code in (400, 401, 404, 405, 413) for code in status_codes), status_codes
    assert not leaks, leaks
    assert bridge.crashes == 0
    assert bridge.log_text().count("Traceback") == 0, bridge.log_text()[-3000:]


async def local_api_abuse(session: aiohttp.ClientSession, bridge: BridgeProcess) -> list[int]:
    """Requests the local API must refuse; returns their HTTP status codes."""
    url = bridge.api_url
    codes: list[int] = []
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": CANARY_API_TOKEN},
        {"Authorization": f"Basic {CANARY_API_TOKEN}"},
        {"Authorization": f"Bearer {CANARY_API_TOKEN[:-1]}"},
    ]
    for headers in bad_headers:
        for method, path in (
            ("GET", "/api/status"),
            ("PUT", "/api/exposure"),
            ("POST", "/api/resync"),
        ):
            async with session.request(method, url + path, headers=headers, data=b"{}") as resp:
                codes.append(resp.status)
                assert resp.status == 401, (method, path, headers)
    bodies = [
        b"x" * 2_000_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"entities": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"entities": "\xff\xfe"}',
        b"\xff\xfe\xfd",
        json.dumps({"entities": [1, None, {"a": 1}]}).encode(),
        json.dumps({"entities": ["light.ok"] * 20_000}).encode(),
        json.dumps({"entities": ["not an entity id", "../../etc/passwd"]}).encode(),
        json.dumps({"entities": None}).encode(),
        json.dumps([1, 2, 3]).encode(),
    ]
    for body in bodies:
        async with session.put(url + "/api/exposure", data=body, headers=AUTH) as resp:
            codes.append(resp.status)
            text = await resp.text()
            assert resp.status in (400, 413), (resp.status, text[:200])
            if resp.status == 400:
                assert json.loads(text).get("error"), text[:200]
    for method, path in (
        ("GET", "/api/../../etc/passwd"),
        ("DELETE", "/api/status"),
        ("GET", "/nope"),
    ):
        async with session.request(method, url + path, headers=AUTH) as resp:
            codes.append(resp.status)
    code, body = await bridge.api(session, "GET", "/api/exposure")
    assert (code, body) == (200, {"entities": [EXPOSED]})  # nothing hostile was stored
    address = non_loopback_address()
    if address is not None:  # it listens only where configured (127.0.0.1)
        with pytest.raises(OSError):
            socket.create_connection((address, int(bridge.options["api_port"])), timeout=2).close()
    return codes


def find_leaks(
    bridge: BridgeProcess, ledger: Any, status: dict[str, Any] | None, pki: PKI
) -> list[str]:
    """Where a canary shows up outside the places the wire contract puts the password."""
    key_lines = [
        line.strip()
        for line in pki.client_key.read_text().splitlines()
        if line.strip() and not line.startswith("-----")
    ]
    canaries = {
        "instance password": CANARY_PASSWORD,
        "HA token": CANARY_HA_TOKEN,
        "API token": CANARY_API_TOKEN,
        **{f"key line {i}": line for i, line in enumerate(key_lines)},
    }
    places: dict[str, str] = {
        "bridge log": bridge.log_text(),
        "GET /api/status": json.dumps(status),
        "result packets": json.dumps(ledger.results),
    }
    sync_texts = []
    for topic, payload in ledger.raw:
        if not topic.endswith(("/send_sync_query_high", "/send_sync_query_low", "inx/activate")):
            continue  # what the cloud sent, or the bridge's results (checked above)
        obj = json.loads(payload)
        if "/send_sync_query_" in topic:
            sync_texts.append(json.dumps(unzip_records(obj.pop("content"))))
            obj.pop("ips")
        else:
            obj.pop("instancePass")
        sync_texts.append(json.dumps(obj))
    places["sync files and packet headers"] = "\n".join(sync_texts)
    assert sync_texts, "no sync packet was seen"
    return [
        f"{name} in {place}"
        for place, text in places.items()
        for name, value in canaries.items()
        if value in text
    ]


def test_api_binds_to_loopback_outside_the_add_on() -> None:
    config = parse_options(
        {
            "contract_id": "C-1",
            "instance_id": "i",
            "instance_password": "pw-123",
            "ha_token": "t-123",
            "endpoint": "x.example",
        },
        {},
    )
    assert config.api_host == "127.0.0.1"
