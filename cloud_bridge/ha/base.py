"""What the bridge core needs from Home Assistant, as an interface.

The real implementation is the WebSocket client in cloud_bridge/ha/client.py. Callbacks are
invoked on the asyncio loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

type JSONDict = dict[str, Any]

# (entity_id, new_state or None when removed). A state is HA's state object as JSON:
# {"entity_id", "state", "attributes", "last_changed", "last_updated", "context"}.
StateHandler = Callable[[str, JSONDict | None], None]
# Called after every (re)connect once auth and the state subscription are done: the bridge
# resnapshots the structure and all states.
ConnectedHandler = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class RegistrySnapshot:
    """HA's registries, as the structure lane sends them."""

    areas: list[JSONDict] = field(default_factory=list)
    devices: list[JSONDict] = field(default_factory=list)
    entities: list[JSONDict] = field(default_factory=list)


class HAError(Exception):
    """A Home Assistant call failed; `code` is HA's error code when it gave one."""

    def __init__(self, message: str, code: str = "ha_error") -> None:
        super().__init__(message)
        self.code = code


class HomeAssistantAPI(Protocol):
    """The Home Assistant operations the bridge uses."""

    @property
    def connected(self) -> bool:
        """True while authenticated and subscribed."""

    @property
    def last_error(self) -> HAError | None:
        """Why the last connection attempt failed; None once connected."""

    def set_handlers(self, on_state: StateHandler, on_connected: ConnectedHandler) -> None:
        """Register callbacks; called once before start()."""

    async def start(self) -> None:
        """Connect, authenticate, subscribe; keep reconnecting with backoff until stop()."""

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""

    async def get_states(self) -> list[JSONDict]:
        """All current states."""

    async def get_state(self, entity_id: str) -> JSONDict | None:
        """One entity's current state (None when it does not exist)."""

    async def get_registry(self) -> RegistrySnapshot:
        """Areas, devices and entities from HA's registries."""

    async def call_service(
        self,
        domain: str,
        service: str,
        data: JSONDict,
        target: JSONDict,
        *,
        return_response: bool = False,
        timeout: float = 10.0,
    ) -> JSONDict | None:
        """Call a service and wait for HA's result; raises HAError with HA's message."""
