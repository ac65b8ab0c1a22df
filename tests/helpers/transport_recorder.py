"""What the transport and cloud-observer tests need: a recorder of callbacks, a waiter,
and a subscriber to every cloud topic."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cloud_bridge.transport.base import ConnectionEvent, ConnectionState, MessageHandler
from cloud_bridge.transport.mqtt import MqttTransport


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `cond` every 20 ms until it holds (TimeoutError after `timeout`)."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.02)


async def listen_to_cloud(transport: MqttTransport, on_message: MessageHandler) -> None:
    """Connect `transport` and subscribe it to every cloud topic (`inx/#`, QoS 1);
    connection events are of no interest to an observer."""

    def on_connection(event: ConnectionEvent) -> None:
        return None

    transport.set_handlers(on_message, on_connection)
    await transport.connect()
    await transport.subscribe("inx/#", 1)


class Recorder:
    """Collects what a transport hands to the bridge."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.events: list[ConnectionEvent] = []

    def on_message(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, payload))

    def on_connection(self, event: ConnectionEvent) -> None:
        self.events.append(event)

    def states(self) -> list[ConnectionState]:
        return [e.state for e in self.events]
