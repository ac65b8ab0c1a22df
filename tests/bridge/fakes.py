"""In-memory fakes of the two seams, for failure paths the real parts cannot produce on cue.

FakeCloudTransport implements CloudTransport; FakeHomeAssistant implements
HomeAssistantAPI. Everything else in these tests is real (SQLite, the managers).
"""

from __future__ import annotations

import asyncio
from typing import Any

from cloud_bridge.ha.base import (
    ConnectedHandler,
    HAError,
    RegistrySnapshot,
    StateHandler,
)
from cloud_bridge.transport.base import (
    ConnectionEvent,
    ConnectionHandler,
    ConnectionState,
    MessageHandler,
    TransportError,
)
from cloud_bridge.transport.diagnosis import Diagnosis


class FakeCloudTransport:
    """Records publishes; can refuse to connect or publish."""

    def __init__(self) -> None:
        self.connected = False
        self.diagnosis: Diagnosis | None = None
        self.published: list[tuple[str, bytes]] = []
        self.attempts: list[str] = []
        self.subscriptions: list[str] = []
        self.connect_failures = 0
        self.fail_publish: TransportError | None = None
        self.on_message: MessageHandler | None = None
        self.on_connection: ConnectionHandler | None = None

    def set_handlers(self, on_message: MessageHandler, on_connection: ConnectionHandler) -> None:
        self.on_message = on_message
        self.on_connection = on_connection

    async def connect(self) -> None:
        if self.connect_failures:
            self.connect_failures -= 1
            raise TransportError("endpoint refused the connection", "connect_failed")
        self.connected = True

    async def disconnect(self) -> None:
        self.connected = False

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        self.subscriptions.append(topic)

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.attempts.append(topic)
        if self.fail_publish is not None:
            raise self.fail_publish
        self.published.append((topic, payload))

    def emit(self, state: ConnectionState, code: str | None = None, reason: str | None = None):
        self.connected = state is ConnectionState.CONNECTED
        assert self.on_connection is not None
        self.on_connection(ConnectionEvent(state, code=code, reason=reason))


class FakeHomeAssistant:
    """States in a dict; calls can be made to fail."""

    def __init__(self) -> None:
        self.connected = True
        self.states: dict[str, dict[str, Any]] = {}
        self.last_error: HAError | None = None
        self.fail_reads: HAError | None = None
        self.fail_states: HAError | None = None  # get_states only (the registry answers)
        self.state_reads = 0  # get_states calls (each one a parse of every state)
        self.fail_get_state: HAError | None = None
        self.calls: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        self.on_state: StateHandler | None = None
        self.on_connected: ConnectedHandler | None = None
        self.own_entities: set[str] = set()

    def set_handlers(self, on_state: StateHandler, on_connected: ConnectedHandler) -> None:
        self.on_state = on_state
        self.on_connected = on_connected

    async def start(self) -> None:
        if self.connected and self.on_connected is not None:
            asyncio.get_running_loop().create_task(self.on_connected())

    async def stop(self) -> None:
        self.connected = False

    async def get_states(self) -> list[dict[str, Any]]:
        self.state_reads += 1
        if self.fail_reads or self.fail_states:
            raise self.fail_reads or self.fail_states
        return list(self.states.values())

    async def get_state(self, entity_id: str) -> dict[str, Any] | None:
        if self.fail_get_state:
            raise self.fail_get_state
        return self.states.get(entity_id)

    async def get_registry(self) -> RegistrySnapshot:
        if self.fail_reads:
            raise self.fail_reads
        entities = [{"entity_id": e, "platform": "inspextor"} for e in sorted(self.own_entities)]
        return RegistrySnapshot(entities=entities)

    def own(self, *entity_ids: str) -> None:
        """Register entities as the InspeXtor integration's own (in the sync scope)."""
        self.own_entities.update(entity_ids)

    async def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any],
        target: dict[str, Any],
        *,
        return_response: bool = False,
        timeout: float = 10.0,
    ) -> dict[str, Any] | None:
        self.calls.append((domain, service, data, target))
        return None

    def set(self, entity_id: str, state: str, **attributes: Any) -> None:
        self.own_entities.add(entity_id)
        self.states[entity_id] = {"entity_id": entity_id, "state": state, "attributes": attributes}
