"""One MQTT request → reply hop through the bridge's own MqttTransport (which sets
TCP_NODELAY itself), with Mosquitto's default and a peer that leaves Nagle on, and with
`set_tcp_nodelay true` and TCP_NODELAY on the peer. Shows the ~40 ms step a broker
without set_tcp_nodelay adds to every hop."""

from __future__ import annotations

import asyncio
import time

from bench.probe import Probe
from bench.stats import percentile
from cloud_bridge.transport.base import ConnectionEvent
from cloud_bridge.transport.mqtt import MqttTransport
from devkit.devcloud.broker import find_mosquitto, start_mosquitto
from devkit.devstack.stack import free_port


async def _hop(nodelay: bool, rounds: int) -> list[float]:
    binary = find_mosquitto()
    if binary is None:
        raise RuntimeError("mosquitto is not installed")
    broker = await start_mosquitto(binary, "127.0.0.1", free_port(), nodelay=nodelay)
    try:
        return await _measure(broker.port, nodelay, rounds)
    finally:
        await broker.stop()


async def _measure(port: int, nodelay: bool, rounds: int) -> list[float]:
    loop = asyncio.get_running_loop()
    transport = MqttTransport("127.0.0.1", port, f"bench-nagle-{int(nodelay)}")
    tasks: set[asyncio.Task[None]] = set()

    def on_message(_topic: str, payload: bytes) -> None:
        task = loop.create_task(transport.publish("bench/reply", payload, qos=1))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def on_connection(_event: ConnectionEvent) -> None:
        return None

    transport.set_handlers(on_message, on_connection)
    await transport.connect()
    await transport.subscribe("bench/request", 1)
    waiting: asyncio.Future[float] | None = None

    def on_reply(now: float, _topic: str, _payload: bytes) -> None:
        if waiting is not None:
            loop.call_soon_threadsafe(_resolve, waiting, now)

    peer = Probe(port, f"bench-nagle-peer-{int(nodelay)}", nodelay=nodelay)
    peer.handlers.append(on_reply)
    peer.start(["bench/reply"])
    samples = []
    try:
        for _ in range(rounds):
            waiting = loop.create_future()
            start = time.monotonic()
            peer.client.publish("bench/request", b"ping", qos=1)
            samples.append(await asyncio.wait_for(waiting, 5) - start)
    finally:
        peer.stop()
        await transport.disconnect()
    return samples


def _resolve(future: asyncio.Future[float], value: float) -> None:
    if not future.done():
        future.set_result(value)


async def run(rounds: int = 40) -> tuple[float, float]:
    """p50 of the hop in ms: broker and peer with Nagle, and with TCP_NODELAY everywhere."""
    shipped = await _hop(False, rounds)
    nodelay = await _hop(True, rounds)
    return percentile(shipped, 50) * 1000, percentile(nodelay, 50) * 1000
