"""The one async interface every cloud transport implements.

The bridge core never sees paho or awscrt: it calls these methods from the asyncio loop
and receives messages and connection events through the two callbacks, which a transport
always invokes on the loop (never on a library thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cloud_bridge.transport.diagnosis import Diagnosis


class ConnectionState(StrEnum):
    """Where a transport's connection stands."""

    CONNECTED = "connected"
    INTERRUPTED = "interrupted"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A change of connection state.

    `session_present` is meaningful on CONNECTED: False means the broker kept no session,
    so the transport has resubscribed everything itself and the bridge must resync.
    `reason` says why on INTERRUPTED/DISCONNECTED, in words a user can act on
    (e.g. "another client connected with the same client id").
    """

    state: ConnectionState
    session_present: bool = False
    reason: str | None = None
    code: str | None = None


class TransportError(Exception):
    """A transport operation failed; `code` is machine-readable, str(self) is for people."""

    def __init__(self, message: str, code: str = "transport_error") -> None:
        super().__init__(message)
        self.code = code


MessageHandler = Callable[[str, bytes], None]
ConnectionHandler = Callable[[ConnectionEvent], None]


class CloudTransport(Protocol):
    """An MQTT connection to the cloud (AWS IoT Core or a broker playing it)."""

    @property
    def connected(self) -> bool:
        """True while the connection is up."""

    @property
    def diagnosis(self) -> Diagnosis | None:
        """A standing diagnosis (a duplicate client id kick loop), None once stable."""

    def set_handlers(self, on_message: MessageHandler, on_connection: ConnectionHandler) -> None:
        """Register the callbacks; called once before connect(). Both run on the loop."""

    async def connect(self) -> None:
        """Connect; returns when connected, raises TransportError with a clear reason.

        After the first connect the transport reconnects by itself with backoff and
        reports every change through on_connection. It remembers its subscriptions and
        resubscribes them whenever the broker has no session for it.
        """

    async def disconnect(self) -> None:
        """Disconnect cleanly and stop reconnecting."""

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe (and remember the subscription for reconnects)."""

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish; with QoS 1 returns only after the PUBACK.

        Raises TransportError when not connected or when the broker refuses it, so the
        caller can keep the message in its durable outbox.
        """
