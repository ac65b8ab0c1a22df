"""What each command verb does. Every effect goes through the hooks the bridge gives, and
`call_service` through the same admission as a command over MQTT."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import hashlib
import json
from typing import Any

from cloud_bridge.ha.base import HAError, HomeAssistantAPI
from cloud_bridge.store_channel.backend import ObjectStore
from cloud_bridge.store_channel.parse import Call

type JSONDict = dict[str, Any]
type Provider = Callable[[], Awaitable[Any]]
# (service, entity_id, data) -> None when allowed, else the reason it is refused
type Admission = Callable[[str, str, JSONDict], Awaitable[str | None]]


class CommandFailedError(Exception):
    """A command ran and failed, or was refused; the message is its result."""


@dataclass(slots=True)
class Hooks:
    """The bridge's parts a command file may use."""

    ha: HomeAssistantAPI
    admission: Admission
    exposed: Callable[[], Awaitable[list[str]]]
    status: Provider
    ping: Provider
    resync: Provider
    outbox: Provider
    diagnostics: Provider


class Verbs:
    """Runs parsed commands; returns their result text or raises CommandFailedError."""

    def __init__(self, hooks: Hooks, status_store: ObjectStore, service: str) -> None:
        self.hooks = hooks
        self.status_store = status_store
        self.service = service

    async def run(self, call: Call) -> str:
        """One command's result, as the JSON text the source puts in `result`."""
        handler = getattr(self, f"_{call.verb}")
        try:
            value = await handler(*call.args)
        except HAError as err:
            raise CommandFailedError(f"Home Assistant: {err}") from err
        return json.dumps(value, separators=(",", ":"), default=str)

    async def _get_status(self) -> Any:
        return await self.hooks.status()

    async def _ping(self) -> Any:
        return await self.hooks.ping()

    async def _resync(self) -> Any:
        return await self.hooks.resync()

    async def _get_outbox(self) -> Any:
        return await self.hooks.outbox()

    async def _get_states(self, entity_ids: Any = None) -> Any:
        exposed = set(await self.hooks.exposed())
        if entity_ids is None:
            wanted = exposed
        elif isinstance(entity_ids, list | tuple) and all(isinstance(e, str) for e in entity_ids):
            hidden = sorted(set(entity_ids) - exposed)
            if hidden:
                raise CommandFailedError(f"not exposed to the cloud: {', '.join(hidden)}")
            wanted = set(entity_ids)
        else:
            raise CommandFailedError("get_states takes a list of entity ids")
        states = await self.hooks.ha.get_states()
        return [s for s in states if s.get("entity_id") in wanted]

    async def _call_service(self, service: Any, entity_id: Any, data: Any = None) -> Any:
        if not isinstance(service, str) or not isinstance(entity_id, str):
            raise CommandFailedError("call_service takes a service and an entity id (text)")
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise CommandFailedError("the service data must be a dictionary")
        reason = await self.hooks.admission(service, entity_id, data)
        if reason is not None:
            raise CommandFailedError(f"rejected: {reason}")
        state = await self.hooks.ha.get_state(entity_id)
        if state is None:
            raise CommandFailedError(f"{entity_id} does not exist in Home Assistant")
        if state.get("state") == "unavailable":
            raise CommandFailedError(f"{entity_id} is unavailable")
        domain, _, name = service.partition(".")
        await self.hooks.ha.call_service(domain, name, data, {"entity_id": entity_id})
        observed = await self.hooks.ha.get_state(entity_id) or {}
        return {
            "entity_id": entity_id,
            "state": observed.get("state"),
            "attributes": observed.get("attributes", {}),
        }

    async def _export_diagnostics(self) -> Any:
        document = await self.hooks.diagnostics()
        body = json.dumps(document, indent=1, default=str).encode()
        key = f"{self.service}/diagnostics.json"
        await self.status_store.put(key, body)
        return {"key": key, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
