"""A cloud transport whose certificate can be replaced under a live bridge.

The bridge holds this one transport; inside it an awsiotsdk transport with the active
certificate does the work. `switch()` lets the publishes in flight finish, disconnects,
connects a new inner transport with the new certificate and the same client id (the
broker keeps the persistent session, so commands sent meanwhile are delivered after),
and restores the subscriptions. Meanwhile `connected` stays true and publishes wait for
the new connection instead of failing: to the bridge a switch is a short pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import logging
from pathlib import Path
import time
from typing import Any

from awscrt import mqtt

from cloud_bridge.identity.enrol import IdentityTransport, OpenTransport
from cloud_bridge.transport.base import (
    ConnectionEvent,
    ConnectionHandler,
    MessageHandler,
    TransportError,
)

_LOGGER = logging.getLogger(__name__)
SWITCH_WAIT = 30.0  # longest a publish waits for the switch to finish


type Identify = Callable[[], Awaitable[tuple[Path, Path]]]


@dataclass(frozen=True, slots=True)
class SwitchReport:
    """How a switch went; `offline_s` is the time no connection was up."""

    offline_s: float


class SwitchableTransport:
    """CloudTransport (and IdentityTransport) over a replaceable inner transport."""

    def __init__(self, open_transport: OpenTransport, identify: Identify, client_id: str) -> None:
        self._open = open_transport
        self._identify = identify  # the certificate and key to connect with (may provision)
        self.client_id = client_id
        self._inner: IdentityTransport | None = None
        self._on_message: MessageHandler | None = None
        self._on_connection: ConnectionHandler | None = None
        self._subscriptions: dict[str, int] = {}
        self._switched = asyncio.Event()
        self._switched.set()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.switches: list[SwitchReport] = []

    def _make(self, cert_file: Path, key_file: Path) -> IdentityTransport:
        inner = self._open(cert_file, key_file, self.client_id)

        def on_message(topic: str, payload: bytes) -> None:
            if self._on_message is not None:
                self._on_message(topic, payload)

        def on_connection(event: ConnectionEvent) -> None:
            if inner is self._inner and self._switched.is_set() and self._on_connection:
                self._on_connection(event)

        inner.set_handlers(on_message, on_connection)
        return inner

    # ---------------------------------------------------------------- CloudTransport

    @property
    def connected(self) -> bool:
        """Up, or switching (publishes wait for the new connection then)."""
        if not self._switched.is_set():
            return True
        return self._inner is not None and self._inner.connected

    @property
    def mqtt_connection(self) -> mqtt.Connection | None:
        """The current awscrt connection."""
        return self._inner.mqtt_connection if self._inner is not None else None

    @property
    def diagnosis(self) -> Any:
        """The inner transport's standing diagnosis (kick loop)."""
        return getattr(self._inner, "diagnosis", None)

    def set_handlers(self, on_message: MessageHandler, on_connection: ConnectionHandler) -> None:
        """Register the bridge's callbacks."""
        self._on_message, self._on_connection = on_message, on_connection

    async def connect(self) -> None:
        """Find the certificate (provisioning by claim if need be), then connect."""
        if self._inner is None:
            cert_file, key_file = await self._identify()
            inner = self._make(cert_file, key_file)
            for topic, qos in self._subscriptions.items():
                await inner.subscribe(topic, qos)
            self._inner = inner
        await self._inner.connect()

    async def disconnect(self) -> None:
        """Disconnect for good."""
        if self._inner is not None:
            await self._inner.disconnect()

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe (kept across switches)."""
        self._subscriptions[topic] = qos
        await self._wait_switch()
        if self._inner is not None:
            await self._inner.subscribe(topic, qos)

    async def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish on the current connection; during a switch, on the next one."""
        await self._wait_switch()
        if self._inner is None:
            raise TransportError("not connected to the cloud yet", "not_connected")
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._inner.publish(topic, payload, qos)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _wait_switch(self) -> None:
        if self._switched.is_set():
            return
        try:
            async with asyncio.timeout(SWITCH_WAIT):
                await self._switched.wait()
        except TimeoutError as err:
            raise TransportError("the certificate switch did not finish", "switching") from err

    # ------------------------------------------------------------------- switching

    async def switch(self, cert_file: Path, key_file: Path) -> SwitchReport:
        """Reconnect with another certificate; TransportError keeps the old connection."""
        self._switched.clear()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SWITCH_WAIT):
                    await self._idle.wait()  # results in flight get their PUBACK first
            new = self._make(cert_file, key_file)
            for topic, qos in self._subscriptions.items():
                await new.subscribe(topic, qos)  # remembered; restored on connect
            old, started = self._inner, time.monotonic()
            if old is None:
                raise TransportError("not connected to the cloud yet", "not_connected")
            await old.disconnect()
            try:
                await new.connect()
            except TransportError:
                _LOGGER.warning("the new certificate could not connect; back on the old one")
                await old.connect()
                raise
            self._inner = new
            report = SwitchReport(time.monotonic() - started)
        finally:
            self._switched.set()
        self.switches.append(report)
        _LOGGER.info("switched certificate: %.0f ms without a connection", report.offline_s * 1e3)
        return report
