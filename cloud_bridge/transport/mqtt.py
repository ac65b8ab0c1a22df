"""CloudTransport over paho-mqtt 2.1, driven by the asyncio loop (no paho network thread).

paho's socket is registered with loop.add_reader/add_writer and its housekeeping
(keep-alive pings) runs from a 1 s loop timer, so every paho callback already runs on the
loop. Only the blocking connect (DNS, TCP, TLS handshake) runs in an executor; the socket
callbacks it fires are handed to the loop with call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import logging
import random
import ssl
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import (
    ConnectionEvent,
    ConnectionState,
    TransportError,
)
from cloud_bridge.transport.common import RECONNECT_MAX, TransportCore
from cloud_bridge.transport.diagnosis import (
    Diagnosis,
    KickLoopDetector,
    explain_connack,
    explain_os_error,
)
from cloud_bridge.transport.sockets import disable_nagle
from cloud_bridge.transport.tls import TLSSettings

__all__ = ["MqttTransport", "TLSSettings"]

_LOGGER = logging.getLogger(__name__)

type _Socket = Any  # paho's SocketLike (socket, SSLSocket or its websocket wrapper)


class MqttTransport(TransportCore):
    """An MQTT 3.1.1 connection to a broker (Mosquitto, or AWS IoT Core via its endpoint)."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: TLSSettings | None = None,
        keepalive: int = 45,
        clean_session: bool = False,
        reconnect_min: float = 1.0,
        reconnect_max: float = RECONNECT_MAX,
        connect_timeout: float = 10.0,
        ack_timeout: float = 30.0,
        kick_detector: KickLoopDetector | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._client_id = client_id
        self._tls = tls
        self._keepalive = keepalive
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._connect_timeout = connect_timeout
        self._ack_timeout = ack_timeout
        super().__init__(client_id, kick_detector)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        self._client.suppress_exceptions = True
        if username is not None:
            self._client.username_pw_set(username, password)
        self._tls_ready = tls is None
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe
        self._client.on_socket_close = self._on_socket_close
        self._client.on_socket_unregister_write = self._on_socket_unregister_write
        self._client.on_socket_open = self._on_socket_open
        self._client.on_socket_register_write = self._on_socket_register_write
        self._stopping = True
        self._connected_at = 0.0
        self._backoff_step = 0
        self._connack: asyncio.Future[mqtt.ConnectFlags | Diagnosis] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._pending_pub: dict[int, asyncio.Future[None]] = {}
        self._pending_sub: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        self._misc_timer: asyncio.TimerHandle | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._connecting: asyncio.Future[None] | None = None

    # ----------------------------------------------------------------- public API

    async def connect(self) -> None:
        """Connect once; raise TransportError with a clear reason; then keep reconnecting."""
        self._loop = asyncio.get_running_loop()
        if not self._tls_ready and self._tls is not None:
            context = await self._loop.run_in_executor(None, self._tls.ssl_context)
            self._client.tls_set_context(context)
            self._tls_ready = True
        self._stopping = False
        try:
            await self._attempt()
        except TransportError:
            self._stopping = True
            raise

    async def disconnect(self) -> None:
        """Disconnect cleanly and stop reconnecting."""
        self._stopping = True
        await cancel_and_wait(self._reconnect_task)
        self._reconnect_task = None
        if self._connecting is not None and not self._connecting.done():
            # A connect still running in the executor would open a socket after we left.
            with contextlib.suppress(Exception):
                await self._connecting
            await asyncio.sleep(0)  # let its socket callbacks reach the loop
        if self._connected and self._loop is not None:
            self._closed = self._loop.create_future()
            self._client.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed, 5)
        self._drop_socket()
        self._emit(ConnectionEvent(ConnectionState.DISCONNECTED, reason="disconnected"))

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now if connected; always remember it for reconnects."""
        self._subscriptions[topic] = qos
        if self._connected:
            await self._subscribe_many([(topic, qos)])

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish; with QoS 1 return only after the PUBACK."""
        if not self._connected or self._loop is None:
            raise TransportError(
                f"not connected to {self._host}:{self._port}: the message was not sent",
                "not_connected",
            )
        try:
            info = self._client.publish(topic, payload, qos)
        except ValueError as err:  # wildcards, empty topic, bad QoS, payload too large
            raise TransportError(f"cannot publish to {topic!r}: {err}", "invalid_publish") from err
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise TransportError(
                f"publish to {topic} failed: {mqtt.error_string(info.rc)}", "publish_failed"
            )
        if qos == 0:
            return
        future: asyncio.Future[None] = self._loop.create_future()
        self._pending_pub[info.mid] = future
        try:
            await asyncio.wait_for(future, self._ack_timeout)
        except TimeoutError as err:
            raise TransportError(
                f"no PUBACK for {topic} within {self._ack_timeout:g} s", "ack_timeout"
            ) from err
        finally:
            self._pending_pub.pop(info.mid, None)

    # ------------------------------------------------------------ connecting

    async def _attempt(self) -> None:
        """One connection attempt; on success subscriptions are restored and CONNECTED sent."""
        loop = self._loop
        assert loop is not None
        self._connack = loop.create_future()
        try:
            with self._socket_callbacks_from_thread():
                self._connecting = loop.run_in_executor(None, self._blocking_connect)
                await asyncio.shield(self._connecting)
        except (OSError, ssl.SSLError, ValueError) as err:
            diag = explain_os_error(err, self._host, self._port)
            raise TransportError(diag.reason, diag.code) from err
        try:
            result = await asyncio.wait_for(self._connack, self._connect_timeout)
        except TimeoutError as err:
            self._drop_socket()
            raise TransportError(
                f"{self._host}:{self._port} accepted the connection but sent no CONNACK "
                f"within {self._connect_timeout:g} s (is it an MQTT port?)",
                "timeout",
            ) from err
        finally:
            self._connack = None
        if isinstance(result, Diagnosis):
            self._drop_socket()
            raise TransportError(result.reason, result.code)
        await self._came_up(result.session_present)

    def _blocking_connect(self) -> None:
        self._client.connect(self._host, self._port, self._keepalive)

    async def _came_up(self, session_present: bool) -> None:
        self._connected = True
        self._connected_at = self._now()
        self._detector.connected(self._connected_at)
        if topics := self._topics_to_restore(session_present):
            try:
                await self._subscribe_many(topics)
            except TransportError as err:
                _LOGGER.warning("Resubscribing after connect failed: %s", err)
        self._emit_connected(session_present)

    async def _subscribe_many(self, topics: list[tuple[str, int]]) -> None:
        assert self._loop is not None
        try:
            result, mid = self._client.subscribe(topics)
        except ValueError as err:
            raise TransportError(f"cannot subscribe: {err}", "invalid_subscribe") from err
        if result != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise TransportError(
                f"subscribe failed: {mqtt.error_string(result)}", "subscribe_failed"
            )
        future: asyncio.Future[list[ReasonCode]] = self._loop.create_future()
        self._pending_sub[mid] = future
        try:
            codes = await asyncio.wait_for(future, self._ack_timeout)
        except TimeoutError as err:
            raise TransportError(
                f"no SUBACK within {self._ack_timeout:g} s", "ack_timeout"
            ) from err
        finally:
            self._pending_sub.pop(mid, None)
        refused = [
            topic for (topic, _), code in zip(topics, codes, strict=False) if code.is_failure
        ]
        self._active_subs.update(topic for topic, _ in topics if topic not in refused)
        if refused:
            raise TransportError(
                f"the broker refused the subscription to {', '.join(refused)} "
                "(not authorised by its policy?)",
                "subscribe_refused",
            )

    async def _reconnect_loop(self, first_reason: Diagnosis) -> None:
        last = first_reason
        while not self._stopping:
            delay = min(self._reconnect_max, self._reconnect_min * 2**self._backoff_step)
            self._backoff_step = min(self._backoff_step + 1, 16)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
            try:
                await self._attempt()
            except TransportError as err:
                diag = Diagnosis(err.code, str(err))
                if diag != last:
                    last = diag
                    self._emit(
                        ConnectionEvent(
                            ConnectionState.INTERRUPTED, reason=diag.reason, code=diag.code
                        )
                    )
            else:
                return

    # ------------------------------------------------------- paho callbacks (on loop)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if self._connack is None or self._connack.done():
            return
        if reason.is_failure:
            self._connack.set_result(explain_connack(str(reason)))
        else:
            self._connack.set_result(flags)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        if self._connack is not None and not self._connack.done():
            self._connack.set_result(
                Diagnosis(
                    "connection_closed",
                    f"{self._host}:{self._port} closed the connection before accepting it"
                    + (" (TLS: is the client certificate accepted?)" if self._tls else ""),
                )
            )
        if not self._connected:
            return
        self._connected = False
        now = self._now()
        if now - self._connected_at >= self._detector.short:
            self._backoff_step = 0
        pending: list[asyncio.Future[Any]] = [
            *self._pending_pub.values(),
            *self._pending_sub.values(),
        ]
        for future in pending:
            if not future.done():
                future.set_exception(
                    TransportError("connection lost before the broker acknowledged", "lost")
                )
        diag = self._detector.interrupted(now)
        if self._stopping:
            return
        if diag is None:
            diag = Diagnosis(
                "connection_lost",
                f"lost connection to {self._host}:{self._port} ({reason!s})",
            )
        self._emit(ConnectionEvent(ConnectionState.INTERRUPTED, reason=diag.reason, code=diag.code))
        assert self._loop is not None
        self._reconnect_task = self._loop.create_task(self._reconnect_loop(diag))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._on_message_cb is None:
            return
        try:
            self._on_message_cb(message.topic, message.payload)
        except Exception:
            _LOGGER.exception("Message handler failed for %s", message.topic)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        future = self._pending_pub.get(mid)
        if future is not None and not future.done():
            future.set_result(None)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Any,
    ) -> None:
        future = self._pending_sub.get(mid)
        if future is not None and not future.done():
            future.set_result(reasons)

    # ------------------------------------------------ socket <-> asyncio plumbing

    @contextlib.contextmanager
    def _socket_callbacks_from_thread(self) -> Iterator[None]:
        """While paho connects in an executor, hand its socket callbacks to the loop."""
        self._client.on_socket_open = self._threadsafe(self._on_socket_open)
        self._client.on_socket_register_write = self._threadsafe(self._on_socket_register_write)
        try:
            yield
        finally:
            self._client.on_socket_open = self._on_socket_open
            self._client.on_socket_register_write = self._on_socket_register_write

    def _threadsafe(self, func: Any) -> Any:
        loop = self._loop
        assert loop is not None

        def handover(client: mqtt.Client, userdata: Any, sock: _Socket) -> None:
            loop.call_soon_threadsafe(func, client, userdata, sock)

        return handover

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: _Socket) -> None:
        assert self._loop is not None
        if sock.fileno() < 0:
            return
        disable_nagle(sock)
        self._loop.add_reader(sock, self._readable)
        if self._misc_timer is None:
            self._misc_timer = self._loop.call_later(1, self._misc)
        self._readable()

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: _Socket) -> None:
        if self._loop is not None and sock.fileno() > -1:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        if self._misc_timer is not None:
            self._misc_timer.cancel()
            self._misc_timer = None

    def _on_socket_register_write(self, client: mqtt.Client, userdata: Any, sock: _Socket) -> None:
        if self._loop is not None and sock.fileno() > -1:
            self._loop.add_writer(sock, self._client.loop_write)

    def _on_socket_unregister_write(
        self, client: mqtt.Client, userdata: Any, sock: _Socket
    ) -> None:
        if self._loop is not None and sock.fileno() > -1:
            self._loop.remove_writer(sock)

    def _readable(self) -> None:
        result = self._client.loop_read()
        # TLS may hold decrypted bytes the selector cannot see: drain them too.
        while result == MQTTErrorCode.MQTT_ERR_SUCCESS:
            sock = self._client.socket()
            if not isinstance(sock, ssl.SSLSocket) or sock.pending() == 0:
                break
            result = self._client.loop_read()

    def _misc(self) -> None:
        self._misc_timer = None
        if self._client.loop_misc() == MQTTErrorCode.MQTT_ERR_SUCCESS and self._loop:
            self._misc_timer = self._loop.call_later(1, self._misc)

    def _drop_socket(self) -> None:
        """Close paho's socket without waiting for the broker (paho has no public call)."""
        self._connected = False
        self._client._sock_close()  # calls our on_socket_close
