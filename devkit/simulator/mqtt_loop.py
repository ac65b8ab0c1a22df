"""Drive paho MQTT clients from one asyncio loop, without a thread per client.

paho's external-loop hooks (socket open/close, register/unregister write) are wired to
`loop.add_reader` / `loop.add_writer`, and a small task calls `loop_misc()` for keep-alive.
The blocking part of paho (the TCP connect in `reconnect()`) runs in the default executor;
the socket hooks it fires there are handed to the loop with `call_soon_threadsafe`.
So a thousand simulated devices, each with its own connection and last will, live in one
process on one loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import logging
import ssl
import threading
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud_bridge.transport.sockets import disable_nagle

_LOGGER = logging.getLogger(__name__)

type MessageCallback = Callable[[str, bytes], None]


@dataclass(frozen=True, slots=True)
class Will:
    """An MQTT last will."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class AsyncMqttClient:
    """One paho client whose socket is served by the running asyncio loop."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        on_message: MessageCallback,
        *,
        will: Will | None = None,
        keepalive: int = 30,
        reconnect: bool = True,
        on_connect: Callable[[], None] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self._on_message = on_message
        self._keepalive = keepalive
        self._reconnect = reconnect
        self._on_connect = on_connect
        self._subscriptions: list[tuple[str, int]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._connected: asyncio.Event | None = None
        # Set once the broker acknowledged every SUBSCRIBE sent (mids still unacked).
        self._subscribed: asyncio.Event | None = None
        self._unacked_subs: set[int] = set()
        self._misc_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False
        self._pubacks: dict[int, asyncio.Future[None]] = {}
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        if will is not None:
            client.will_set(will.topic, will.payload, will.qos, will.retain)
        if tls is not None:
            client.tls_set_context(tls)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_publish = self._handle_publish
        client.on_subscribe = self._handle_subscribe
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._socket_register_write
        client.on_socket_unregister_write = self._socket_unregister_write
        self._client = client

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the connection."""
        return self._connected is not None and self._connected.is_set()

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect and wait for the CONNACK and the SUBACK of every subscription made
        before: from then on nothing published to those topics is missed. Raises
        TimeoutError or OSError."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._connected = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._closing = False
        self._client.connect_async(self.host, self.port, self._keepalive)
        await self._loop.run_in_executor(None, self._client.reconnect)
        self._misc_task = self._loop.create_task(self._misc_loop())
        await asyncio.wait_for(self._ready(), timeout)

    async def _ready(self) -> None:
        assert self._connected is not None
        assert self._subscribed is not None
        await self._connected.wait()
        await self._subscribed.wait()

    async def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> None:
        """Subscribe now and again after every reconnect; when connected, return once
        the broker acknowledged it (raises TimeoutError)."""
        self._subscriptions.append((topic, qos))
        if self.connected:
            self._send_subscribe(topic, qos)
            assert self._subscribed is not None
            await asyncio.wait_for(self._subscribed.wait(), timeout)

    def _send_subscribe(self, topic: str, qos: int) -> None:
        assert self._subscribed is not None
        result, mid = self._client.subscribe(topic, qos)
        if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
            self._unacked_subs.add(mid)
            self._subscribed.clear()

    def publish(self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False) -> int:
        """Queue a publish (written by the loop); returns the message id."""
        info = self._client.publish(topic, payload, qos, retain)
        return info.mid

    async def publish_acked(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and wait until the broker acknowledged it (QoS 1) or it was written."""
        assert self._loop is not None
        if not self.connected:
            raise ConnectionError(f"{self.client_id}: not connected to the broker")
        future: asyncio.Future[None] = self._loop.create_future()
        info = self._client.publish(topic, payload, qos, retain)
        if info.is_published():
            return
        self._pubacks[info.mid] = future
        await asyncio.wait_for(future, 10)

    async def disconnect(self) -> None:
        """Disconnect cleanly (no last will) and stop reconnecting."""
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        if self.connected:
            self._client.disconnect()
            # Let the loop write the DISCONNECT before the socket closes.
            for _ in range(50):
                if self._client.socket() is None:
                    break
                await asyncio.sleep(0.01)
        self._stop_tasks()
        self._drop_socket(clean=True)

    def kill(self) -> None:
        """Drop the TCP connection without DISCONNECT: the broker publishes the last will."""
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        self._stop_tasks()
        self._drop_socket(clean=False)

    # -- internals ---------------------------------------------------------------------

    def _drop_socket(self, *, clean: bool) -> None:
        sock = self._client.socket()
        if sock is not None and self._loop is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(sock)
                self._loop.remove_writer(sock)
            if not clean:
                with contextlib.suppress(OSError):
                    sock.close()
        if self._connected is not None:
            self._connected.clear()

    def _stop_tasks(self) -> None:
        if self._misc_task is not None:
            self._misc_task.cancel()
            self._misc_task = None

    def _on_loop(self, func: Callable[[], None]) -> None:
        assert self._loop is not None
        if self._loop.is_closed():
            return  # paho's __del__ after the loop ended: nothing left to unregister
        if threading.get_ident() == self._loop_thread:
            func()
        else:
            self._loop.call_soon_threadsafe(func)

    def _socket_open(self, client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        disable_nagle(sock)

        def register() -> None:
            if client.socket() is sock and self._loop is not None:
                self._loop.add_reader(cast(Any, sock), self._read)

        self._on_loop(register)

    def _socket_close(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        def unregister() -> None:
            if self._loop is not None:
                with contextlib.suppress(ValueError, OSError):
                    self._loop.remove_reader(sock)
                    self._loop.remove_writer(sock)

        # Must happen before paho closes the fd: run it right here when on the loop.
        self._on_loop(unregister)

    def _socket_register_write(self, client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        def register() -> None:
            if client.socket() is sock and self._loop is not None:
                self._loop.add_writer(cast(Any, sock), self._write)

        self._on_loop(register)

    def _socket_unregister_write(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        def unregister() -> None:
            if self._loop is not None:
                with contextlib.suppress(ValueError, OSError):
                    self._loop.remove_writer(sock)

        self._on_loop(unregister)

    def _read(self) -> None:
        result = self._client.loop_read()
        # TLS may hold decrypted bytes the selector cannot see: drain them too.
        while result == mqtt.MQTT_ERR_SUCCESS:
            sock = self._client.socket()
            if not isinstance(sock, ssl.SSLSocket) or sock.pending() == 0:
                break
            result = self._client.loop_read()

    def _write(self) -> None:
        self._client.loop_write()

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1)
            self._client.loop_misc()

    def _handle_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("%s: broker refused the connection: %s", self.client_id, reason)
            return
        assert self._connected is not None
        assert self._subscribed is not None
        self._unacked_subs.clear()
        self._subscribed.set()
        for topic, qos in self._subscriptions:
            self._send_subscribe(topic, qos)
        self._connected.set()
        if self._on_connect is not None:
            self._on_connect()

    def _handle_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if self._connected is not None:
            self._connected.clear()
        for future in self._pubacks.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost before PUBACK"))
        self._pubacks.clear()
        if self._closing or not self._reconnect or self._loop is None:
            return
        _LOGGER.info("%s: connection lost (%s), reconnecting", self.client_id, reason)
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = self._loop.create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        assert self._loop is not None
        delay = 0.5
        while not self._closing and not self.connected:
            await asyncio.sleep(delay)
            try:
                await self._loop.run_in_executor(None, self._client.reconnect)
            except OSError as err:
                _LOGGER.debug("%s: reconnect failed: %s", self.client_id, err)
                delay = min(delay * 2, 10.0)
                continue
            if self._misc_task is None:
                self._misc_task = self._loop.create_task(self._misc_loop())
            with contextlib.suppress(TimeoutError):
                assert self._connected is not None
                await asyncio.wait_for(self._connected.wait(), 10)

    def _handle_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._on_message(msg.topic, msg.payload)
        except Exception:
            _LOGGER.exception("%s: handler failed for %s", self.client_id, msg.topic)

    def _handle_subscribe(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reasons: Any, _props: Any
    ) -> None:
        if any(getattr(reason, "is_failure", False) for reason in reasons):
            _LOGGER.warning("%s: broker refused a subscription: %s", self.client_id, reasons)
        self._unacked_subs.discard(mid)
        if not self._unacked_subs and self._subscribed is not None:
            self._subscribed.set()

    def _handle_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: Any, _props: Any
    ) -> None:
        future = self._pubacks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)
