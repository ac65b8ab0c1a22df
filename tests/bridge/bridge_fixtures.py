"""A running bridge wired to Mosquitto and the fake HA, and a peer playing the cloud."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

import aiohttp

from cloud_bridge.bridge import Bridge
from cloud_bridge.config import BridgeConfig, parse_options
from cloud_bridge.factory import build_bridge
from cloud_bridge.ha.client import HAWebSocketClient
from cloud_bridge.protocol.packets import (
    ActivationAction,
    activation_reply,
    decode,
    encode,
    parse_activation_request,
    ping_reply,
)
from cloud_bridge.protocol.packing import unpack
from cloud_bridge.transport.mqtt import MqttTransport
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker, free_port
from tests.helpers.polling import wait_for
from tests.helpers.transport_recorder import listen_to_cloud

CONTRACT = "C-100"
INSTANCE = "home-1"
PASSWORD = "instance-secret-pw"


@dataclass
class Received:
    """One message the cloud peer saw."""

    topic: str
    payload: bytes
    at: float

    def json(self) -> dict[str, Any]:
        """The payload as JSON."""
        return decode(self.payload)


@dataclass
class CloudPeer:
    """Plays the cloud on the broker: records everything under the prefix, can reply."""

    transport: MqttTransport
    messages: list[Received] = field(default_factory=list)
    activation_replies: list[dict[str, Any] | None] = field(default_factory=list)
    answer_pings: bool = True

    def on_message(self, topic: str, payload: bytes) -> None:
        self.messages.append(Received(topic, payload, time.monotonic()))
        if topic == "inx/activate" and self.activation_replies:
            reply = self.activation_replies.pop(0)
            if reply is not None:
                req = parse_activation_request(decode(payload))
                reply = {**reply, "req": req.req, "a": req.action.value}
                asyncio.get_running_loop().create_task(
                    self.transport.publish(f"inx/{CONTRACT}/activate", encode(reply))
                )
        if topic == "inx/ping" and self.answer_pings:
            packet = ping_reply(decode(payload), time.time())
            asyncio.get_running_loop().create_task(
                self.transport.publish(f"inx/{CONTRACT}/ping", encode(packet))
            )

    def on_topic(self, topic: str) -> list[Received]:
        return [m for m in self.messages if m.topic == topic]

    def records(self, lane: str | None = None) -> list[dict[str, Any]]:
        """Every record of every sync packet, in arrival order."""
        out = []
        for msg in self.messages:
            if "/send_sync_query_" in msg.topic:
                out.extend(r for r in unpack(msg.payload) if lane is None or r["lane"] == lane)
        return out

    def results(self, command_id: str) -> list[dict[str, Any]]:
        return [
            m.json() for m in self.on_topic("inx/instance/return") if m.json()["id"] == command_id
        ]

    async def send_action(self, packet: dict[str, Any] | bytes) -> None:
        payload = packet if isinstance(packet, bytes) else json.dumps(packet).encode()
        await self.transport.publish(f"inx/{CONTRACT}/action", payload)


def own_entities(fake_ha: FakeHA, *entity_ids: str, device_id: str | None = None) -> None:
    """Register entities as the InspeXtor integration's own (in the bridge's sync scope)."""
    for entity_id in entity_ids:
        fake_ha.add_entity(entity_id, device_id=device_id, platform="inspextor")


def bridge_config(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA, **overrides: Any
) -> BridgeConfig:
    options: dict[str, Any] = {
        "contract_id": CONTRACT,
        "instance_id": INSTANCE,
        "instance_password": PASSWORD,
        "name": "Test home",
        "transport": "mqtt",
        "endpoint": broker.host,
        "port": broker.port,
        "ha_url": fake_ha.url,
        "ha_token": fake_ha.token,
        "data_dir": str(tmp_path),
        "api_port": free_port(),
        "api_host": "127.0.0.1",
        "api_token": "local-api-token",
        "ping_interval": 0,
        "high_window": 0.05,
        "low_window": 1,
        "activation_timeout": 0.5,
    }
    options.update(overrides)
    return parse_options(options, {})


@dataclass
class BridgeHarness:
    """A started bridge, the cloud peer and the fake HA."""

    bridge: Bridge
    cloud: CloudPeer
    ha: FakeHA
    config: BridgeConfig
    session: aiohttp.ClientSession

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.config.api_port}"


async def start_cloud_peer(broker: Broker) -> CloudPeer:
    transport = MqttTransport(broker.host, broker.port, f"cloud-{free_port()}")
    peer = CloudPeer(transport)
    await listen_to_cloud(transport, peer.on_message)
    return peer


@contextlib.asynccontextmanager
async def start_harness(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA, **overrides: Any
) -> AsyncIterator[BridgeHarness]:
    config = bridge_config(tmp_path, broker, fake_ha, **overrides)
    cloud = await start_cloud_peer(broker)
    async with aiohttp.ClientSession() as session:
        ha = HAWebSocketClient(session, config.ha_url, config.ha_token, reconnect_min=0.05)
        transport = MqttTransport(config.endpoint, config.port, config.client_id)
        bridge = build_bridge(
            config,
            transport=transport,
            ha=ha,
            api_token="local-api-token",
            scope_refresh_delay=0.1,
        )
        await bridge.start()
        try:
            await wait_for(lambda: bridge.transport.connected, what="bridge connected")
            yield BridgeHarness(bridge, cloud, fake_ha, config, session)
        finally:
            await bridge.stop()
            await cloud.transport.disconnect()


def success_reply() -> dict[str, Any]:
    return activation_reply(
        ActivationAction.ACTIVATE,
        "",
        success=True,
        subscription_state="active",
        subscription_expires="2027-01-01T00:00:00Z",
    )


_COUNTER_SCRIPT = """
import sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rate-counter")
def on_connect(c, u, f, rc, p):
    c.subscribe(sys.argv[3], 1)
def on_subscribe(c, u, mid, rcs, p):
    print("ready", flush=True)
c.on_connect = on_connect
c.on_subscribe = on_subscribe
c.on_message = lambda c, u, m: print(repr(time.time()), flush=True)
c.connect(sys.argv[1], int(sys.argv[2]))
c.loop_forever()
"""


class RateCounter:
    """A subscriber in its own process that timestamps every message the broker delivers."""

    def __init__(self, broker: Broker, topic: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _COUNTER_SCRIPT, broker.host, str(broker.port), topic],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.arrivals: list[float] = []

    async def ready(self) -> None:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), 10)
        assert line.strip() == "ready"

    async def collect(self, count: int, timeout: float = 30.0) -> list[float]:
        assert self.proc.stdout is not None
        while len(self.arrivals) < count:
            line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), timeout)
            self.arrivals.append(float(line))
        return self.arrivals

    def busiest_second(self) -> int:
        """The most messages that arrived within any one-second window."""
        times = sorted(self.arrivals)
        return max(
            (sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times)),
            default=0,
        )

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(5)
