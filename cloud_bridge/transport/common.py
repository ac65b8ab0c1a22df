"""What both cloud transports share: callbacks, remembered subscriptions, kick diagnosis.

The library-specific parts (paho on the loop, awscrt on its own thread) stay in mqtt.py
and awsiot.py; this holds the bookkeeping that must behave the same in both.
"""

from __future__ import annotations

import asyncio
import logging

from cloud_bridge.transport.base import (
    ConnectionEvent,
    ConnectionHandler,
    ConnectionState,
    MessageHandler,
)
from cloud_bridge.transport.diagnosis import Diagnosis, KickLoopDetector

_LOGGER = logging.getLogger(__name__)

# Longest wait between reconnect attempts, in seconds. With 60 s (awscrt's and paho's
# usual cap) a backlog waited up to a minute after the cloud came back (measured in the
# 60 s outage test); 30 s stays far inside AWS IoT's 1 connect/s per client id.
RECONNECT_MAX = 30


class TransportCore:
    """Base of MqttTransport and AwsIotTransport."""

    def __init__(self, client_id: str, kick_detector: KickLoopDetector | None) -> None:
        self._detector = kick_detector or KickLoopDetector(client_id)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_message_cb: MessageHandler | None = None
        self._on_connection_cb: ConnectionHandler | None = None
        self._connected = False
        # every subscription asked for (restored on reconnect) and those the broker holds
        self._subscriptions: dict[str, int] = {}
        self._active_subs: set[str] = set()

    @property
    def connected(self) -> bool:
        """True while the connection is up."""
        return self._connected

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The standing diagnosis (duplicate client id), None once connected stably."""
        if self._loop is not None:
            self._detector.stable_check(self._loop.time())
        return self._detector.diagnosis

    def set_handlers(self, on_message: MessageHandler, on_connection: ConnectionHandler) -> None:
        """Register the callbacks (both run on the loop)."""
        self._on_message_cb = on_message
        self._on_connection_cb = on_connection

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def _topics_to_restore(self, session_present: bool) -> list[tuple[str, int]]:
        """The subscriptions to (re)make after a connect; all of them without a session."""
        if not session_present:
            self._active_subs.clear()
        return [
            (topic, qos)
            for topic, qos in self._subscriptions.items()
            if topic not in self._active_subs
        ]

    def _emit_connected(self, session_present: bool) -> None:
        """Report CONNECTED, carrying a standing kick-loop diagnosis if there is one."""
        diag = self._detector.diagnosis
        self._emit(
            ConnectionEvent(
                ConnectionState.CONNECTED,
                session_present=session_present,
                reason=diag.reason if diag else None,
                code=diag.code if diag else None,
            )
        )

    def _emit(self, event: ConnectionEvent) -> None:
        if self._on_connection_cb is None:
            return
        try:
            self._on_connection_cb(event)
        except Exception:
            _LOGGER.exception("Connection handler failed")
