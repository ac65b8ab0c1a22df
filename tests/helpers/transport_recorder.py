"""What both transport test modules need: a recorder of callbacks and a waiter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cloud_bridge.transport.base import ConnectionEvent, ConnectionState


async def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `cond` every 20 ms until it holds (TimeoutError after `timeout`)."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.02)


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
