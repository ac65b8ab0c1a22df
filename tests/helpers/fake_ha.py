"""A fake Home Assistant: a real aiohttp WebSocket server speaking HA's WebSocket API.

Message shapes follow homeassistant/components/websocket_api (auth.py, messages.py,
commands.py): `auth_required` → `auth` → `auth_ok`/`auth_invalid`; results
`{"id","type":"result","success":true,"result"}`; errors
`{"id","type":"result","success":false,"error":{"code","message"}}`; events
`{"id","type":"event","event":{...}}`; `ping` → `pong`; ids must increase (`id_reuse`).
Like HA it drops a client that lets more than `max_pending` messages queue up, or stays
above `pending_peak` for `pending_peak_time` seconds.

Usage:
    async with running_fake_ha() as ha:
        ha.set_state("light.kitchen", "off", {"brightness": None})
        client = HAWebSocketClient(session, ha.url, ha.token)

Built-in service behaviour (disable with builtin_services=False): light.turn_on/turn_off/
toggle switch the state (and brightness); cover.open_cover/close_cover/set_cover_position/
stop_cover move `current_position` in steps (`cover_step` % every `cover_step_time` s)
through opening/closing. Add effects of your own with on_call_service(hook).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import time
from typing import Any
import uuid

from aiohttp import WSMsgType, web

from tests.helpers.mosquitto import free_port
from tests.helpers.polling import DEFAULT_TIMEOUT, wait_for

type JSON = dict[str, Any]
HA_VERSION = "2025.4.4"


@dataclass(slots=True)
class ServiceCall:
    """One call_service the fake received."""

    domain: str
    service: str
    data: JSON
    target: JSON
    return_response: bool
    context: JSON

    @property
    def entity_ids(self) -> list[str]:
        """Targeted entity ids (from target or, like older clients, from data)."""
        raw = self.target.get("entity_id") or self.data.get("entity_id") or []
        return [raw] if isinstance(raw, str) else list(raw)


class ServiceFailure(Exception):
    """Raise from a hook to make the call fail with HA's error code and message."""

    def __init__(self, message: str, code: str = "home_assistant_error") -> None:
        super().__init__(message)
        self.code = code


# A hook may return a response dict (used when return_response is set) or None.
type ServiceHook = Callable[[ServiceCall], JSON | Awaitable[JSON | None] | None]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _context() -> JSON:
    return {"id": uuid.uuid4().hex.upper()[:26], "parent_id": None, "user_id": None}


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    outbox: deque[str] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    subscriptions: dict[int, str | None] = field(default_factory=dict)
    last_id: int = 0
    peak_since: float | None = None

    def send(self, message: JSON, fake: FakeHA) -> None:
        if self.ws.closed:
            return
        self.outbox.append(json.dumps(message))
        self.wake.set()
        pending = len(self.outbox)
        if pending > fake.max_pending:
            fake.dropped_for_lag += 1
            self.outbox.clear()
            asyncio.get_running_loop().create_task(self.ws.close())
        elif pending > fake.pending_peak:
            now = time.monotonic()
            if self.peak_since is None:
                self.peak_since = now
            elif now - self.peak_since > fake.pending_peak_time:
                fake.dropped_for_lag += 1
                self.outbox.clear()
                asyncio.get_running_loop().create_task(self.ws.close())
        else:
            self.peak_since = None


class FakeHA:
    """The fake server and its world (states, registries, recorded service calls)."""

    def __init__(
        self,
        token: str = "fake-ha-token",
        *,
        builtin_services: bool = True,
        cover_step: int = 10,
        cover_step_time: float = 0.05,
        max_pending: int = 4096,
        pending_peak: int = 1024,
        pending_peak_time: float = 10.0,
    ) -> None:
        self.token = token
        self.states: dict[str, JSON] = {}
        self.areas: list[JSON] = []
        self.devices: list[JSON] = []
        self.entities: list[JSON] = []
        self.automation_configs: dict[str, JSON] = {}  # `automation/config` by entity id
        self.service_calls: list[ServiceCall] = []
        self.auth_attempts = 0
        self.connections_accepted = 0
        self.dropped_for_lag = 0
        self.builtin_services = builtin_services
        self.cover_step = cover_step
        self.cover_step_time = cover_step_time
        self.max_pending = max_pending
        self.pending_peak = pending_peak
        self.pending_peak_time = pending_peak_time
        self.port = free_port()
        self._failures: dict[tuple[str, str], ServiceFailure] = {}
        self._delays: dict[tuple[str, str], float] = {}
        self._holds: dict[tuple[str, str], asyncio.Event] = {}
        self._responses: dict[tuple[str, str], JSON] = {}
        self._hooks: list[ServiceHook] = []
        self._connections: set[_Connection] = set()
        self._covers: dict[str, asyncio.Task[None]] = {}
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The WebSocket URL, as a bridge outside the add-on would use it."""
        return f"ws://127.0.0.1:{self.port}/api/websocket"

    @property
    def connection_count(self) -> int:
        """Authenticated connections open right now."""
        return sum(1 for conn in self._connections if not conn.ws.closed)

    async def start(self) -> None:
        """Listen on 127.0.0.1:self.port."""
        app = web.Application()
        app.router.add_get("/api/websocket", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        for task in self._covers.values():
            task.cancel()
        self._covers.clear()
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self) -> None:
        """Stop, then listen again on the same port (HA restarting)."""
        await self.stop()
        await self.start()

    async def drop_connections(self) -> None:
        """Close all client connections (HA going away) while still listening."""
        conns = list(self._connections)
        self._connections.clear()
        for conn in conns:
            await conn.ws.close()

    async def wait_for_connections(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until `count` authenticated clients are connected."""
        await wait_for(lambda: self.connection_count >= count, timeout, f"{count} HA clients", 0.01)

    # ------------------------------------------------------------- the world

    def set_state(
        self, entity_id: str, state: str, attributes: JSON | None = None, *, merge: bool = False
    ) -> JSON:
        """Set an entity's state and send state_changed to subscribers; returns the state."""
        old = self.states.get(entity_id)
        attrs = dict(old["attributes"]) if (merge and old) else {}
        attrs.update(attributes or {})
        now = _now_iso()
        new = {
            "entity_id": entity_id,
            "state": state,
            "attributes": attrs,
            "last_changed": now if old is None or old["state"] != state else old["last_changed"],
            "last_reported": now,
            "last_updated": now,
            "context": _context(),
        }
        self.states[entity_id] = new
        self._state_changed(entity_id, old, new)
        return new

    def remove_state(self, entity_id: str) -> None:
        """Remove an entity (new_state None in the event)."""
        old = self.states.pop(entity_id, None)
        self._state_changed(entity_id, old, None)

    def add_area(self, area_id: str, name: str) -> JSON:
        """Add an area registry entry (shape of config/area_registry/list)."""
        area: JSON = {
            "aliases": [],
            "area_id": area_id,
            "floor_id": None,
            "humidity_entity_id": None,
            "icon": None,
            "labels": [],
            "name": name,
            "picture": None,
            "temperature_entity_id": None,
            "created_at": time.time(),
            "modified_at": time.time(),
        }
        self.areas.append(area)
        return area

    def add_device(self, device_id: str, name: str, *, area_id: str | None = None) -> JSON:
        """Add a device registry entry (shape of config/device_registry/list)."""
        device: JSON = {
            "area_id": area_id,
            "config_entries": [],
            "disabled_by": None,
            "id": device_id,
            "identifiers": [["fake", device_id]],
            "labels": [],
            "manufacturer": "Fake",
            "model": "Fake device",
            "name": name,
            "name_by_user": None,
            "via_device_id": None,
            "created_at": time.time(),
            "modified_at": time.time(),
        }
        self.devices.append(device)
        return device

    def add_entity(
        self,
        entity_id: str,
        *,
        device_id: str | None = None,
        area_id: str | None = None,
        name: str | None = None,
        platform: str = "fake",
    ) -> JSON:
        """Add an entity registry entry (shape of config/entity_registry/list)."""
        entity: JSON = {
            "area_id": area_id,
            "categories": {},
            "config_entry_id": None,
            "device_id": device_id,
            "disabled_by": None,
            "entity_category": None,
            "entity_id": entity_id,
            "has_entity_name": True,
            "hidden_by": None,
            "icon": None,
            "id": uuid.uuid4().hex,
            "labels": [],
            "name": name,
            "options": {},
            "original_name": name,
            "platform": platform,
            "translation_key": None,
            "unique_id": entity_id,
            "created_at": time.time(),
            "modified_at": time.time(),
        }
        self.entities.append(entity)
        return entity

    # ------------------------------------------------------------ services

    def fail_service(
        self, domain: str, service: str, message: str, code: str = "home_assistant_error"
    ) -> None:
        """Make domain.service fail with HA's error `code` and `message`."""
        self._failures[(domain, service)] = ServiceFailure(message, code)

    def heal_service(self, domain: str, service: str) -> None:
        """Undo fail_service and slow_service for domain.service."""
        self._failures.pop((domain, service), None)
        self._delays.pop((domain, service), None)

    def slow_service(self, domain: str, service: str, seconds: float) -> None:
        """Make domain.service take `seconds` before it answers."""
        self._delays[(domain, service)] = seconds

    def hold_service(self, domain: str, service: str) -> asyncio.Event:
        """Make domain.service answer only once the returned event is set."""
        gate = self._holds[(domain, service)] = asyncio.Event()
        return gate

    def service_response(self, domain: str, service: str, response: JSON) -> None:
        """What domain.service returns when called with return_response."""
        self._responses[(domain, service)] = response

    def on_call_service(self, hook: ServiceHook) -> None:
        """Run `hook(call)` for every call; raise ServiceFailure to fail it."""
        self._hooks.append(hook)

    def calls(self, domain: str | None = None, service: str | None = None) -> list[ServiceCall]:
        """Recorded calls, optionally filtered."""
        return [
            c
            for c in self.service_calls
            if (domain is None or c.domain == domain) and (service is None or c.service == service)
        ]

    async def _call_service(self, call: ServiceCall) -> JSON | None:
        key = (call.domain, call.service)
        self.service_calls.append(call)
        if delay := self._delays.get(key):
            await asyncio.sleep(delay)
        if gate := self._holds.get(key):
            await gate.wait()
        if failure := self._failures.get(key):
            raise failure
        response = self._responses.get(key)
        for hook in self._hooks:
            result = hook(call)
            if isinstance(result, Awaitable):
                result = await result
            if result is not None:
                response = result
        if self.builtin_services:
            self._builtin(call)
        return response

    def _builtin(self, call: ServiceCall) -> None:
        for entity_id in call.entity_ids:
            if entity_id not in self.states or not entity_id.startswith(f"{call.domain}."):
                continue
            if call.domain == "light":
                self._light(entity_id, call)
            elif call.domain == "cover":
                self._cover(entity_id, call)

    def _light(self, entity_id: str, call: ServiceCall) -> None:
        current = self.states[entity_id]["state"]
        service = call.service
        if service == "toggle":
            service = "turn_off" if current == "on" else "turn_on"
        if service == "turn_on":
            brightness = call.data.get(
                "brightness", self.states[entity_id]["attributes"].get("brightness") or 255
            )
            self.set_state(entity_id, "on", {"brightness": brightness}, merge=True)
        elif service == "turn_off":
            self.set_state(entity_id, "off", {"brightness": None}, merge=True)

    def _cover(self, entity_id: str, call: ServiceCall) -> None:
        targets = {"open_cover": 100, "close_cover": 0}
        if call.service == "stop_cover":
            if task := self._covers.pop(entity_id, None):
                task.cancel()
            self._settle_cover(entity_id)
            return
        if call.service == "set_cover_position":
            target = int(call.data["position"])
        elif call.service in targets:
            target = targets[call.service]
        else:
            return
        if task := self._covers.pop(entity_id, None):
            task.cancel()
        position = int(self.states[entity_id]["attributes"].get("current_position", 0))
        if target == position:
            self._settle_cover(entity_id)
            return
        # Like a real cover, it reports opening/closing before the service call returns.
        self.set_state(entity_id, "opening" if target > position else "closing", merge=True)
        self._covers[entity_id] = asyncio.get_running_loop().create_task(
            self._move_cover(entity_id, target)
        )

    async def _move_cover(self, entity_id: str, target: int) -> None:
        position = int(self.states[entity_id]["attributes"].get("current_position", 0))
        direction = 1 if target > position else -1
        moving = "opening" if direction > 0 else "closing"
        while position != target:
            position = (
                min(target, position + self.cover_step)
                if direction > 0
                else max(target, position - self.cover_step)
            )
            self.set_state(entity_id, moving, {"current_position": position}, merge=True)
            await asyncio.sleep(self.cover_step_time)
        self._covers.pop(entity_id, None)
        self._settle_cover(entity_id)

    def _settle_cover(self, entity_id: str) -> None:
        position = int(self.states[entity_id]["attributes"].get("current_position", 0))
        self.set_state(entity_id, "open" if position > 0 else "closed", merge=True)

    # -------------------------------------------------------------- protocol

    def _state_changed(self, entity_id: str, old: JSON | None, new: JSON | None) -> None:
        event = {
            "event_type": "state_changed",
            "data": {"entity_id": entity_id, "old_state": old, "new_state": new},
            "origin": "LOCAL",
            "time_fired": _now_iso(),
            "context": (new or old or {}).get("context", _context()),
        }
        for conn in list(self._connections):
            for sub_id, event_type in conn.subscriptions.items():
                if event_type in (None, "state_changed"):
                    conn.send({"id": sub_id, "type": "event", "event": event}, self)

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_json({"type": "auth_required", "ha_version": HA_VERSION})
        try:
            auth = await ws.receive_json(timeout=10)
        except (TypeError, ValueError, TimeoutError):
            await ws.close()
            return ws
        self.auth_attempts += 1
        if auth.get("type") != "auth" or auth.get("access_token") != self.token:
            await ws.send_json(
                {"type": "auth_invalid", "message": "Invalid access token or password"}
            )
            await ws.close()
            return ws
        await ws.send_json({"type": "auth_ok", "ha_version": HA_VERSION})
        conn = _Connection(ws)
        self._connections.add(conn)
        self.connections_accepted += 1
        writer = asyncio.get_running_loop().create_task(self._writer(conn))
        tasks: set[asyncio.Task[None]] = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                task = asyncio.get_running_loop().create_task(self._command(conn, msg.data))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            self._connections.discard(conn)
            writer.cancel()
            for task in tasks:
                task.cancel()
            await ws.close()
        return ws

    async def _writer(self, conn: _Connection) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not conn.ws.closed:
                await conn.wake.wait()
                conn.wake.clear()
                while conn.outbox:
                    await conn.ws.send_str(conn.outbox.popleft())

    async def _command(self, conn: _Connection, raw: str) -> None:
        try:
            msg = json.loads(raw)
            msg_id = int(msg["id"])
            msg_type = str(msg["type"])
        except (ValueError, KeyError, TypeError):
            conn.send(_error(None, "invalid_format", "Message incorrectly formatted."), self)
            return
        if msg_id <= conn.last_id:
            conn.send(_error(msg_id, "id_reuse", "Identifier values have to increase."), self)
            return
        conn.last_id = msg_id
        result: Any = None
        if msg_type == "ping":
            conn.send({"id": msg_id, "type": "pong"}, self)
            return
        if msg_type == "subscribe_events":
            conn.subscriptions[msg_id] = msg.get("event_type")
        elif msg_type == "unsubscribe_events":
            if conn.subscriptions.pop(int(msg.get("subscription", -1)), None) is None:
                conn.send(_error(msg_id, "not_found", "Subscription not found."), self)
                return
        elif msg_type == "get_states":
            result = list(self.states.values())
        elif msg_type == "config/area_registry/list":
            result = self.areas
        elif msg_type == "config/device_registry/list":
            result = self.devices
        elif msg_type == "config/entity_registry/list":
            result = self.entities
        elif msg_type == "automation/config":
            config = self.automation_configs.get(str(msg.get("entity_id")))
            if config is None:
                conn.send(_error(msg_id, "not_found", "Entity not found"), self)
                return
            result = {"config": config}
        elif msg_type == "call_service":
            call = ServiceCall(
                domain=msg["domain"],
                service=msg["service"],
                data=msg.get("service_data") or {},
                target=msg.get("target") or {},
                return_response=bool(msg.get("return_response", False)),
                context=_context(),
            )
            try:
                response = await self._call_service(call)
            except ServiceFailure as err:
                conn.send(_error(msg_id, err.code, str(err)), self)
                return
            result = {"context": call.context}
            if call.return_response:
                result["response"] = response
        else:
            conn.send(_error(msg_id, "unknown_command", "Unknown command."), self)
            return
        conn.send({"id": msg_id, "type": "result", "success": True, "result": result}, self)


def _error(msg_id: int | None, code: str, message: str) -> JSON:
    return {
        "id": msg_id,
        "type": "result",
        "success": False,
        "error": {"code": code, "message": message},
    }


@contextlib.asynccontextmanager
async def running_fake_ha(**kwargs: Any) -> AsyncIterator[FakeHA]:
    """Start a FakeHA for the duration of the block."""
    fake = FakeHA(**kwargs)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
