"""What the transport and cloud-observer tests need: a recorder of callbacks, the
transports wired to recorders, and a subscriber to every cloud topic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from cloud_bridge.transport.base import (
    CloudTransport,
    ConnectionEvent,
    ConnectionState,
    MessageHandler,
)
from cloud_bridge.transport.mqtt import MqttTransport


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


@asynccontextmanager
async def recorded_transports[T: CloudTransport](
    build: Callable[..., T],
) -> AsyncIterator[Callable[..., tuple[T, Recorder]]]:
    """The transport tests' one set-up: `make(...)` builds a transport with `build(...)`
    and wires it to a new Recorder; every transport made is disconnected at the end."""
    made: list[T] = []

    def make(*args: object, **kwargs: object) -> tuple[T, Recorder]:
        transport = build(*args, **kwargs)
        recorder = Recorder()
        transport.set_handlers(recorder.on_message, recorder.on_connection)
        made.append(transport)
        return transport, recorder

    try:
        yield make
    finally:
        for transport in made:
            await transport.disconnect()
