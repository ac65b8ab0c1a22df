"""The parts of the reliability suite: a bridge process, a cloud-side ledger, canaries.

The bridge runs as a real process (`python -m cloud_bridge run`) so faults come from
outside: SIGKILL, a stopped broker, a restarted HA. The ledger subscribes on the cloud
broker, unzips every sync packet and applies records like the cloud does (idempotently
by instance, lane and seq), counting deliveries, applies and conflicting re-uses of a seq.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any

import aiohttp

from cloud_bridge.protocol.action_packets import action_packet
from cloud_bridge.protocol.packets import decode
from cloud_bridge.protocol.packing import unpack
from cloud_bridge.transport.mqtt import MqttTransport
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker, free_port
from tests.helpers.transport_recorder import listen_to_cloud

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "C-700"
INSTANCE = "home-rel"
# Known canary secrets: none of them may show up anywhere but where the contract puts them.
CANARY_PASSWORD = "canary-instance-pw-7f3a9c"
CANARY_HA_TOKEN = "canary-ha-token-51d0e2b8"
CANARY_API_TOKEN = "canary-api-token-c4e6a1f9"
AUTH = {"Authorization": f"Bearer {CANARY_API_TOKEN}"}


@dataclass
class Ledger:
    """The cloud's view, built from what the cloud broker carried."""

    transport: MqttTransport
    applied: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    deliveries: int = 0
    redelivered: int = 0
    conflicts: list[tuple[str, int]] = field(default_factory=list)
    arrivals: list[tuple[float, str, int]] = field(default_factory=list)  # (time, lane, seq)
    packets: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    raw: list[tuple[str, bytes]] = field(default_factory=list)

    def on_message(self, topic: str, payload: bytes) -> None:
        self.raw.append((topic, payload))
        if topic.endswith("/return"):
            self.results.append(decode(payload))
            return
        if "/send_sync_query_" not in topic:
            return
        self.packets.append(decode(payload))
        now = time.monotonic()
        for record in unpack(payload):
            lane, seq = str(record["lane"]), int(record["seq"])
            if "chunks" in record:  # a split snapshot: one record per chunk
                key_record = {**record}
                seq_key = (lane, seq * 1000 + int(record["chunk"]))
            else:
                key_record, seq_key = record, (lane, seq)
            self.deliveries += 1
            self.arrivals.append((now, lane, seq))
            known = self.applied.get(seq_key)
            if known is None:
                self.applied[seq_key] = key_record
            elif _content(known) != _content(key_record):
                self.conflicts.append(seq_key)  # one seq, two records: one of them is lost
            else:
                self.redelivered += 1

    def lane(self, lane: str) -> list[dict[str, Any]]:
        """Applied records of a lane in seq order."""
        return [r for (ln, _), r in sorted(self.applied.items()) if ln == lane]

    def seqs(self, lane: str) -> set[int]:
        return {seq for (ln, seq) in self.applied if ln == lane}

    def latest_states(self) -> dict[str, str | None]:
        """Per entity, the state of the high-lane record with the highest seq."""
        latest: dict[str, tuple[int, str | None]] = {}
        for record in self.lane("high"):
            entity, seq = record["entity_id"], record["seq"]
            if entity not in latest or latest[entity][0] < seq:
                latest[entity] = (seq, record["state"])
        return {entity: state for entity, (_, state) in latest.items()}

    def results_for(self, command_id: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("id") == command_id]

    async def send(self, topic: str, payload: bytes) -> None:
        await self.transport.publish(topic, payload)

    async def close(self) -> None:
        await self.transport.disconnect()


def _content(record: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "ts"}, sort_keys=True)


async def start_ledger(broker: Broker) -> Ledger:
    """A subscriber on the cloud broker that keeps the ledger."""
    transport = MqttTransport(
        broker.host,
        broker.port,
        f"ledger-{free_port()}",
        reconnect_min=0.05,  # back before the bridge after an outage: it sees everything
        reconnect_max=0.3,
    )
    ledger = Ledger(transport)
    await listen_to_cloud(transport, ledger.on_message)
    return ledger


def bridge_options(
    workdir: Path, broker: Broker, fake_ha_url: str, ha_token: str, **overrides: Any
) -> dict[str, Any]:
    """Options of a bridge process talking MQTT to `broker`, with the canary secrets."""
    return {
        "contract_id": CONTRACT,
        "instance_id": INSTANCE,
        "instance_password": CANARY_PASSWORD,
        "name": "Reliability home",
        "transport": "mqtt",
        "endpoint": broker.host,
        "port": broker.port,
        "ha_url": fake_ha_url,
        "ha_token": ha_token,
        "data_dir": str(workdir / "data"),
        "api_port": free_port(),
        "api_host": "127.0.0.1",
        "api_token": CANARY_API_TOKEN,
        "ping_interval": 0,
        "high_window": 0.05,
        "low_window": 1,
        "log_level": "debug",
        **overrides,
    }


class BridgeProcess:
    """`python -m cloud_bridge run` with an options file; its output appended to a log."""

    def __init__(self, workdir: Path, options: dict[str, Any]) -> None:
        self.workdir = workdir
        self.options = options
        self.config = workdir / "bridge.json"
        self.log = workdir / "bridge.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.crashes = 0  # exits nobody asked for
        self.config.write_text(json.dumps(options))

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.options['api_port']}"

    @property
    def db(self) -> Path:
        return Path(self.options["data_dir"]) / "bridge.sqlite3"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPEXTOR_", "SUPER"))}
        env["PYTHONPATH"] = str(ROOT)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cloud_bridge", "run", "--config", str(self.config)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind."""
        assert self.proc is not None
        self.check_alive()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.crashes += 1

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    async def api(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        async with session.request(
            method,
            self.api_url + path,
            json=body,
            headers=AUTH if headers is None else headers,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def status(self, session: aiohttp.ClientSession) -> dict[str, Any] | None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            code, body = await self.api(session, "GET", "/api/status")
            if code == 200 and isinstance(body, dict):
                return body
        return None

    async def wait_status(
        self,
        session: aiohttp.ClientSession,
        condition: Callable[[dict[str, Any]], bool],
        timeout: float = 60.0,
        what: str = "the bridge's status",
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the bridge exited:\n{self.log_text()[-3000:]}")
            status = await self.status(session)
            if status is not None and condition(status):
                return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: {await self.status(session)}")

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 60.0) -> None:
        await self.wait_status(
            session, lambda s: s["cloud_connected"] and s["ha_connected"], timeout, "ready"
        )

    async def drained(self, session: aiohttp.ClientSession, timeout: float = 120.0) -> None:
        await self.wait_status(
            session,
            lambda s: (
                s["cloud_connected"]
                and not any(s["outbox"][lane] for lane in ("structure", "high", "low"))
            ),
            timeout,
            "an empty outbox",
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def own(fake_ha: FakeHA, *entity_ids: str, device_id: str | None = None) -> None:
    """Register entities as the InspeXtor integration's own (in the sync scope)."""
    for entity_id in entity_ids:
        fake_ha.add_entity(entity_id, device_id=device_id, platform="inspextor")


def action(command_id: str, entity_id: str, service: str, **extra: Any) -> dict[str, Any]:
    """An action packet as the cloud sends it."""
    packet = action_packet(
        command_id=command_id,
        contract_id=CONTRACT,
        service=service,
        entity_id=entity_id,
        iat=time.time(),
        ttl=30,
    )
    return {**packet, **extra}
