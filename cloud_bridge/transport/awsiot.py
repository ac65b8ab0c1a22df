"""CloudTransport for AWS IoT Core: awsiotsdk (awscrt) MQTT 3.1.1 over mutual TLS.

awscrt runs its own event loop thread and calls back on it; every callback here only
hands over to asyncio with loop.call_soon_threadsafe. awscrt's concurrent futures are
awaited through asyncio.wrap_future. awscrt reconnects by itself (1 s doubling to 30 s);
this class reports each change, diagnoses kick loops, and resubscribes when the broker
kept no session.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
import logging
from pathlib import Path
import socket
import ssl
from typing import Any

from awscrt import mqtt
from awscrt.exceptions import AwsCrtError
from awsiot import mqtt_connection_builder

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.transport.base import (
    ConnectionEvent,
    ConnectionState,
    TransportError,
)
from cloud_bridge.transport.certs import certificate_problem
from cloud_bridge.transport.common import RECONNECT_MAX, TransportCore
from cloud_bridge.transport.diagnosis import (
    Diagnosis,
    KickLoopDetector,
    explain_aws_error,
    refused_certificate,
)
from cloud_bridge.transport.tls import missing_files

_LOGGER = logging.getLogger(__name__)

# OpenSSL alert names (TLSV1_ALERT_UNKNOWN_CA, SSLV3_ALERT_BAD_CERTIFICATE, ...) that
# mean the server refused the certificate we presented
_CERT_ALERTS = ("UNKNOWN_CA", "CERTIFICATE", "ACCESS_DENIED")
MAX_KEEPALIVE = 60  # AWS allows 30-1200 s; a longer one hides a dead link for minutes


def _explain(err: BaseException) -> Diagnosis:
    if isinstance(err, AwsCrtError):
        return explain_aws_error(err.name, err.message)
    if isinstance(err, RuntimeError):  # awscrt reports argument errors as "code (NAME): text"
        return Diagnosis("transport_error", str(err))
    if err.args and isinstance(err.args[0], mqtt.ConnectReturnCode):
        code = err.args[0]
        if code is mqtt.ConnectReturnCode.NOT_AUTHORIZED:
            return Diagnosis(
                "not_authorised",
                "connection refused: not authorised (the policy does not allow this client id)",
            )
        if code is mqtt.ConnectReturnCode.BAD_USERNAME_OR_PASSWORD:
            return Diagnosis("bad_credentials", "connection refused: bad credentials")
        return Diagnosis("connection_refused", f"connection refused: {code.name}")
    return Diagnosis("transport_error", f"connection failed: {err}")


class AwsIotTransport(TransportCore):
    """An MQTT 3.1.1 connection to AWS IoT Core with an X.509 device certificate."""

    def __init__(  # noqa: PLR0917 - the signature the bridge config maps onto
        self,
        endpoint: str,
        port: int,
        client_id: str,
        cert_file: str | Path,
        key_file: str | Path,
        ca_file: str | Path,
        *,
        keepalive: int = 45,
        reconnect_min: int = 1,
        reconnect_max: int = RECONNECT_MAX,
        connect_timeout: float = 45.0,
        ack_timeout: float = 30.0,
        kick_detector: KickLoopDetector | None = None,
        tls_preflight: bool = True,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self._endpoint = endpoint
        self._tls_preflight = tls_preflight
        self._port = port
        self._client_id = client_id
        self._files: dict[str, str | Path | None] = {
            "device certificate": cert_file,
            "private key": key_file,
            "CA certificate": ca_file,
        }
        self._cert_file = str(cert_file)
        self._key_file = str(key_file)
        self._ca_file = str(ca_file)
        self._keepalive = max(5, min(keepalive, MAX_KEEPALIVE))
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._connect_timeout = connect_timeout
        self._ack_timeout = ack_timeout
        super().__init__(client_id, kick_detector)
        self._connection: mqtt.Connection | None = None
        self._stopping = True
        self._pending: set[asyncio.Future[Any]] = set()
        self._last_failure: Diagnosis | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------- public API

    @property
    def mqtt_connection(self) -> mqtt.Connection | None:
        """The awscrt connection, lent to awsiotsdk's service clients (fleet provisioning)."""
        return self._connection

    async def connect(self) -> None:
        """Connect; raise TransportError with a clear reason (files checked first)."""
        loop = self._loop = asyncio.get_running_loop()
        connection = await loop.run_in_executor(None, self._build)
        if self._tls_preflight:
            await loop.run_in_executor(None, self._check_server_certificate)
        self._stopping = False
        try:
            async with asyncio.timeout(self._connect_timeout):
                # shield: a cancelled awscrt future makes awscrt's own callback raise
                result = await asyncio.shield(asyncio.wrap_future(connection.connect()))
        except TimeoutError as err:
            self._stopping = True
            connection.disconnect()
            raise TransportError(
                f"{self._endpoint}:{self._port} did not accept the connection within "
                f"{self._connect_timeout:g} s",
                "timeout",
            ) from err
        except Exception as err:
            self._stopping = True
            diag = _explain(err)
            raise TransportError(diag.reason, diag.code) from err
        self._connection = connection
        await self._came_up(bool(result.get("session_present")))

    async def disconnect(self) -> None:
        """Disconnect cleanly and stop reconnecting."""
        self._stopping = True
        self._connected = False
        for task in list(self._tasks):
            task.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await asyncio.shield(asyncio.wrap_future(connection.disconnect()))
        self._fail_pending()
        self._emit(ConnectionEvent(ConnectionState.DISCONNECTED, reason="disconnected"))

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now if connected; always remember it for reconnects."""
        self._subscriptions[topic] = qos
        if self._connected:
            await self._subscribe(topic, qos)

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish; with QoS 1 return only after the PUBACK."""
        connection = self._connection
        if not self._connected or connection is None:
            raise TransportError(
                f"not connected to {self._endpoint}: the message was not sent", "not_connected"
            )
        future, _ = connection.publish(topic, payload, mqtt.QoS(qos))
        try:
            await self._await(future)
        except TimeoutError as err:
            raise TransportError(
                f"no PUBACK for {topic} within {self._ack_timeout:g} s", "ack_timeout"
            ) from err
        except (AwsCrtError, RuntimeError) as err:
            diag = _explain(err)
            raise TransportError(f"publish to {topic} failed: {diag.reason}", diag.code) from err

    # ------------------------------------------------------------------ internals

    def _check_server_certificate(self) -> None:
        """One TLS 1.2 handshake with Python's ssl, presenting our certificate, first.

        awscrt (s2n) delays reporting a failed TLS negotiation by 10-30 s ("blinding")
        and says only "TLS read failure" when the server refuses our certificate; this
        handshake names an untrusted server (a wrong CA file or endpoint) or a refused
        device certificate at once. It presents the device certificate, so the broker
        sees an ordinary client (no "peer did not return a certificate"), and ends with
        a clean TLS close. Anything else is left for awscrt to report.
        """
        try:
            context = ssl.create_default_context(cafile=self._ca_file)
            context.load_cert_chain(self._cert_file, self._key_file)
            context.maximum_version = ssl.TLSVersion.TLSv1_2  # the refusal comes in-handshake
        except (OSError, ssl.SSLError, ValueError):
            return  # the files: _build reports them
        try:
            with socket.create_connection(
                (self._endpoint, self._port), timeout=min(5.0, self._connect_timeout)
            ) as raw:
                tls = context.wrap_socket(raw, server_hostname=self._endpoint)
                tls.unwrap()
        except ssl.SSLCertVerificationError as err:
            raise TransportError(
                f"TLS failure: the server certificate of {self._endpoint} is not trusted "
                f"({err.verify_message}); check the CA file and the endpoint name",
                "tls_error",
            ) from err
        except ssl.SSLError as err:
            alert = str(err.reason or "")
            if "ALERT" in alert and any(word in alert for word in _CERT_ALERTS):
                diag = refused_certificate(alert)
                raise TransportError(diag.reason, diag.code) from err
            return
        except OSError:
            return

    def _build(self) -> mqtt.Connection:
        """Check the files, then build the awscrt connection (blocking file I/O)."""
        missing_files(self._files)
        now = datetime.fromtimestamp(self._clock(), UTC)
        if problem := certificate_problem(self._cert_file, self._key_file, now):
            raise TransportError(problem.reason, problem.code)
        try:
            connection: mqtt.Connection = mqtt_connection_builder.mtls_from_path(
                cert_filepath=self._cert_file,
                pri_key_filepath=self._key_file,
                ca_filepath=self._ca_file,
                endpoint=self._endpoint,
                port=self._port,
                client_id=self._client_id,
                clean_session=False,
                keep_alive_secs=self._keepalive,
                reconnect_min_timeout_secs=self._reconnect_min,
                reconnect_max_timeout_secs=self._reconnect_max,
                on_connection_interrupted=self._cb_interrupted,
                on_connection_resumed=self._cb_resumed,
                on_connection_failure=self._cb_failure,
            )
        except (AwsCrtError, RuntimeError) as err:
            detail = _explain(err).reason if isinstance(err, AwsCrtError) else str(err)
            raise TransportError(
                f"cannot load the device certificate or key: {detail}", "certificate_invalid"
            ) from err
        connection.on_message(self._cb_message)
        return connection

    async def _await(self, future: Any) -> Any:
        wrapped = asyncio.wrap_future(future)
        self._pending.add(wrapped)
        try:
            async with asyncio.timeout(self._ack_timeout):
                return await asyncio.shield(wrapped)
        finally:
            self._pending.discard(wrapped)

    async def _subscribe(self, topic: str, qos: int) -> None:
        connection = self._connection
        assert connection is not None
        future, _ = connection.subscribe(topic, mqtt.QoS(qos))
        try:
            result = await self._await(future)
        except TimeoutError as err:
            raise TransportError(
                f"no SUBACK within {self._ack_timeout:g} s", "ack_timeout"
            ) from err
        except (AwsCrtError, RuntimeError) as err:
            raise TransportError(
                f"subscribe to {topic} failed: {_explain(err).reason}", "subscribe_failed"
            ) from err
        if result.get("qos") is None:
            raise TransportError(
                f"the broker refused the subscription to {topic} (not authorised by its policy?)",
                "subscribe_refused",
            )
        self._active_subs.add(topic)

    async def _came_up(self, session_present: bool) -> None:
        assert self._loop is not None
        self._connected = True
        self._last_failure = None
        self._detector.connected(self._loop.time())
        for topic, qos in self._topics_to_restore(session_present):
            try:
                await self._subscribe(topic, qos)
            except TransportError as err:
                _LOGGER.warning("Resubscribing after connect failed: %s", err)
        self._emit_connected(session_present)

    def _fail_pending(self) -> None:
        for future in list(self._pending):
            if not future.done():
                future.set_exception(
                    TransportError("connection lost before the broker acknowledged", "lost")
                )

    # ------------------------------------- awscrt thread -> loop (never block here)
    # These run on awscrt's native event-loop thread, which coverage's default tracer
    # cannot see (COVERAGE_CORE=sysmon measures them); every test that receives a message
    # or survives a broker restart goes through them.

    def _handover(self, func: Any, *args: Any) -> None:  # pragma: no cover
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(func, *args)

    def _cb_message(self, topic: str, payload: bytes, **kwargs: Any) -> None:  # pragma: no cover
        self._handover(self._deliver, topic, bytes(payload))

    def _cb_interrupted(
        self, connection: mqtt.Connection, error: Exception, **kwargs: Any
    ) -> None:  # pragma: no cover
        self._handover(self._interrupted, error)

    def _cb_resumed(
        self,
        connection: mqtt.Connection,
        return_code: mqtt.ConnectReturnCode,
        session_present: bool,
        **kwargs: Any,
    ) -> None:  # pragma: no cover
        self._handover(self._resumed, bool(session_present))

    def _cb_failure(
        self, connection: mqtt.Connection, callback_data: Any, **kwargs: Any
    ) -> None:  # pragma: no cover
        self._handover(self._reconnect_failed, callback_data.error)

    # ---------------------------------------------------------- on the loop

    def _deliver(self, topic: str, payload: bytes) -> None:
        if self._on_message_cb is None:
            return
        try:
            self._on_message_cb(topic, payload)
        except Exception:
            _LOGGER.exception("Message handler failed for %s", topic)

    def _interrupted(self, error: Exception) -> None:
        if self._stopping or self._loop is None:
            return
        self._connected = False
        self._fail_pending()
        diag = self._detector.interrupted(self._loop.time()) or _explain(error)
        self._last_failure = diag
        self._emit(ConnectionEvent(ConnectionState.INTERRUPTED, reason=diag.reason, code=diag.code))

    def _resumed(self, session_present: bool) -> None:
        if self._stopping or self._loop is None:
            return
        task = self._loop.create_task(self._came_up(session_present))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _reconnect_failed(self, error: Exception | None) -> None:
        if self._stopping or self._connected or error is None:
            return
        diag = self._detector.diagnosis or _explain(error)
        if diag != self._last_failure:
            self._last_failure = diag
            self._emit(
                ConnectionEvent(ConnectionState.INTERRUPTED, reason=diag.reason, code=diag.code)
            )
