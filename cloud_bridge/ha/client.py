"""HomeAssistantAPI over Home Assistant's WebSocket API (aiohttp).

One reader task reads the socket continuously and only resolves futures or calls the
state handler synchronously, so HA never sees this client lag behind (HA drops clients
that let over 1024 messages queue up for 10 s). Requests are sent from the caller's task.
After every (re)connect: auth, subscribe to state_changed, then on_connected() so the
bridge resnapshots. Inside the add-on the URL is ws://supervisor/core/websocket and the
token SUPERVISOR_TOKEN; outside it, HA's URL and a long-lived access token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import aiohttp

from cloud_bridge.ha.base import (
    ConnectedHandler,
    HAError,
    JSONDict,
    RegistrySnapshot,
    StateHandler,
)
from cloud_bridge.protocol import fastjson
from cloud_bridge.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

INVALID_AUTH_MESSAGE = "Home Assistant rejected the access token"


class HAWebSocketClient:
    """A resilient client of HA's WebSocket API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        heartbeat: float = 30.0,
        reconnect_min: float = 1.0,
        reconnect_max: float = 60.0,
        auth_retry: float = 300.0,
        request_timeout: float = 30.0,
    ) -> None:
        self._session = session
        self._url = url
        self._token = token
        self._heartbeat = heartbeat
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._auth_retry = auth_retry
        self._request_timeout = request_timeout
        self._on_state: StateHandler | None = None
        self._on_connected: ConnectedHandler | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._state_sub_id: int | None = None
        self._connected = False
        self._stopping = False
        self._run_task: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[None] | None = None
        self._last_error: HAError | None = None
        self.connect_count = 0
        """How many times the client authenticated and subscribed (for diagnostics)."""

    # ------------------------------------------------------------------ API

    @property
    def connected(self) -> bool:
        """True while authenticated and subscribed to state changes."""
        return self._connected

    @property
    def last_error(self) -> HAError | None:
        """Why the last connection attempt failed or the connection dropped (None when up)."""
        return self._last_error

    def set_handlers(self, on_state: StateHandler, on_connected: ConnectedHandler) -> None:
        """Register callbacks; on_state runs synchronously in the reader, keep it quick."""
        self._on_state = on_state
        self._on_connected = on_connected

    async def start(self) -> None:
        """Start connecting; return after the first attempt, whatever its outcome.

        A failed first attempt does not raise (HA may still be starting): it is in
        `last_error` and the client keeps retrying with backoff until stop().
        """
        if self._run_task is not None:
            return
        self._stopping = False
        self._first_attempt = asyncio.get_running_loop().create_future()
        self._run_task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.shield(self._first_attempt)

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        self._stopping = True
        task, self._run_task = self._run_task, None
        if self._ws is not None:
            await self._ws.close()
        await cancel_and_wait(task)
        self._connection_down(HAError("the client was stopped", "stopped"))

    async def get_states(self) -> list[JSONDict]:
        """All current states."""
        states: list[JSONDict] = await self._request({"type": "get_states"})
        return states

    async def get_state(self, entity_id: str) -> JSONDict | None:
        """One entity's current state (None when it does not exist)."""
        return next((s for s in await self.get_states() if s["entity_id"] == entity_id), None)

    async def get_registry(self) -> RegistrySnapshot:
        """Areas, devices and entities from HA's registries."""
        areas, devices, entities = await asyncio.gather(
            self._request({"type": "config/area_registry/list"}),
            self._request({"type": "config/device_registry/list"}),
            self._request({"type": "config/entity_registry/list"}),
        )
        return RegistrySnapshot(areas=areas, devices=devices, entities=entities)

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
        """Call a service and return HA's result: {"context": {...}, "response": ...}.

        "response" is present only with return_response. Raises HAError with HA's message
        and code (e.g. "not_found", "service_validation_error"), or code "timeout".
        """
        result: JSONDict | None = await self._request(
            {
                "type": "call_service",
                "domain": domain,
                "service": service,
                "service_data": data,
                "target": target,
                "return_response": return_response,
            },
            timeout=timeout,
        )
        return result

    async def automation_config(self, entity_id: str) -> JSONDict | None:
        """An automation entity's raw config (HA's `automation/config`), None if unknown."""
        try:
            result = await self._request({"type": "automation/config", "entity_id": entity_id})
        except HAError as err:
            if err.code == "not_found":
                return None
            raise
        config = result.get("config") if isinstance(result, dict) else None
        return config if isinstance(config, dict) else None

    async def ping(self, timeout: float = 10.0) -> None:
        """Round-trip HA's `ping` command."""
        await self._request({"type": "ping"}, timeout=timeout)

    # ------------------------------------------------------------- requests

    async def _request(self, message: JSONDict, timeout: float | None = None) -> Any:
        ws = self._ws
        if ws is None or ws.closed:
            raise HAError("not connected to Home Assistant", "not_connected")
        msg_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        limit = self._request_timeout if timeout is None else timeout
        try:
            await ws.send_str(json.dumps({"id": msg_id, **message}))
            async with asyncio.timeout(limit):
                return await future
        except TimeoutError as err:
            raise HAError(
                f"Home Assistant did not answer {message['type']} within {limit:g} s", "timeout"
            ) from err
        except (ConnectionError, aiohttp.ClientError) as err:
            raise HAError(f"connection to Home Assistant lost: {err}", "connection_lost") from err
        finally:
            self._pending.pop(msg_id, None)

    # ----------------------------------------------------------- connection

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            served_before = self.connect_count
            try:
                await self._connect_and_serve()
            except HAError as err:
                if err.code == "invalid_auth" and (
                    self._last_error is None or self._last_error.code != "invalid_auth"
                ):
                    _LOGGER.warning("%s; retrying every %g s", err, self._auth_retry)
                elif err.code != "invalid_auth":
                    _LOGGER.warning("Home Assistant connection failed: %s", err)
                self._connection_down(err)
            else:
                self._connection_down(
                    HAError("the connection to Home Assistant was closed", "connection_lost")
                )
            finally:
                self._resolve_first_attempt()
            if self.connect_count != served_before:
                attempt = 0  # a connection was up: start the backoff again from the bottom
            if self._last_error is not None and self._last_error.code == "invalid_auth":
                delay = self._auth_retry  # a bad token does not fix itself: no retry storm
            else:
                delay = min(self._reconnect_max, self._reconnect_min * 2**attempt)
                attempt = min(attempt + 1, 16)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter

    async def _connect_and_serve(self) -> None:
        try:
            ws = await self._session.ws_connect(
                self._url, heartbeat=self._heartbeat, max_msg_size=0
            )
        except (aiohttp.ClientError, OSError) as err:
            raise HAError(
                f"cannot reach Home Assistant at {self._url}: {err}", "cannot_connect"
            ) from err
        self._next_id = 1
        try:
            await self._authenticate(ws)
            self._ws = ws  # requests may go out only once authenticated
            reader = asyncio.get_running_loop().create_task(self._reader(ws))
            try:
                self._state_sub_id = self._next_id
                await self._request({"type": "subscribe_events", "event_type": "state_changed"})
                self._connected = True
                self._last_error = None
                self.connect_count += 1
                _LOGGER.info("Connected to Home Assistant at %s", self._url)
                if self._on_connected is not None:
                    try:
                        await self._on_connected()
                    except Exception:
                        _LOGGER.exception("on_connected handler failed")
                self._resolve_first_attempt()
                await reader
            finally:
                await cancel_and_wait(reader)
        finally:
            self._connected = False
            await ws.close()

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async with asyncio.timeout(self._request_timeout):
                hello = await ws.receive_json()
                if hello.get("type") != "auth_required":
                    raise HAError(f"unexpected first message from {self._url}", "protocol_error")
                await ws.send_str(json.dumps({"type": "auth", "access_token": self._token}))
                answer = await ws.receive_json()
        except (TypeError, ValueError, aiohttp.ClientError) as err:
            raise HAError(
                f"Home Assistant closed the connection during authentication: {err}",
                "cannot_connect",
            ) from err
        except TimeoutError as err:
            raise HAError("Home Assistant did not authenticate in time", "timeout") from err
        if answer.get("type") == "auth_invalid":
            raise HAError(INVALID_AUTH_MESSAGE, "invalid_auth")
        if answer.get("type") != "auth_ok":
            raise HAError(f"unexpected auth answer: {answer.get('type')}", "protocol_error")

    async def _reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read until the socket closes; never awaits anything but the socket."""
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                self._receive(msg.data)
                # While the socket is idle the last message must not stay alive: the answer
                # to get_states is megabytes of text and tens of megabytes once parsed.
                del msg
        finally:
            self._connected = False
            self._fail_pending()

    def _receive(self, text: str) -> None:
        try:
            payload = fastjson.loads(text)
        except ValueError:
            _LOGGER.warning("Ignoring a message from Home Assistant that is not JSON")
            return
        for item in payload if isinstance(payload, list) else [payload]:
            self._dispatch(item)

    def _dispatch(self, message: JSONDict) -> None:
        kind = message.get("type")
        if kind == "event":
            if message.get("id") == self._state_sub_id:
                self._state_event(message.get("event") or {})
            return
        future = self._pending.get(message.get("id", -1))
        if future is None or future.done():
            return
        if kind == "pong":
            future.set_result(None)
        elif kind == "result" and message.get("success"):
            future.set_result(message.get("result"))
        elif kind == "result":
            error = message.get("error") or {}
            future.set_exception(
                HAError(
                    error.get("message") or "Home Assistant reported an error",
                    error.get("code") or "ha_error",
                )
            )

    def _state_event(self, event: JSONDict) -> None:
        data = event.get("data") or {}
        entity_id = data.get("entity_id")
        if self._on_state is None or not isinstance(entity_id, str):
            return
        try:
            self._on_state(entity_id, data.get("new_state"))
        except Exception:
            _LOGGER.exception("State handler failed for %s", entity_id)

    def _connection_down(self, error: HAError) -> None:
        self._connected = False
        self._ws = None
        if error.code != "stopped":
            self._last_error = error
        self._fail_pending()

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    HAError("connection to Home Assistant lost", "connection_lost")
                )
        self._pending.clear()

    def _resolve_first_attempt(self) -> None:
        if self._first_attempt is not None and not self._first_attempt.done():
            self._first_attempt.set_result(None)
