"""The bridge's view of its cloud connection: the first connect, online/offline (the
sync engine publishes, a full resync follows a reconnect), the cloud part's error, the
kick-loop latch, and one log line per change."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.scope_sync import ScopeSync
from cloud_bridge.sync import SyncEngine
from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import (
    CloudTransport,
    ConnectionEvent,
    ConnectionState,
    TransportError,
)
from cloud_bridge.transport.diagnosis import DUPLICATE_CLIENT_ID

_LOGGER = logging.getLogger(__name__)
KICK_CODE = DUPLICATE_CLIENT_ID
# A kick loop is over once a connection stays up this long (KickLoopDetector.stable).
KICK_STABLE = 60.0
CONNECT_RETRY_FIRST = 1.0
CONNECT_RETRY_MAX = 60.0


class CloudLink:
    """Follows the transport's connection events for the rest of the bridge."""

    def __init__(
        self,
        transport: CloudTransport,
        errors: ErrorState,
        sync: SyncEngine,
        scope: ScopeSync,
        *,
        where: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.transport = transport
        self.errors = errors
        self.sync = sync
        self.scope = scope
        self.where = where  # "<endpoint>:<port> as client id <id>", for the log
        self._clock = clock
        self.online = False
        self.stopping = False  # a clean stop: its disconnect is no problem
        self._ever_connected = False
        self._kicked = False
        self._connected_at: float | None = None
        self._resyncs: set[asyncio.Task[Any]] = set()

    async def connect_loop(self) -> None:
        """The first connect, retried with backoff; afterwards the transport reconnects.

        A failure is logged as a warning when its reason is new, at debug level when it
        repeats, so a wrong setting is said once instead of once a minute forever.
        """
        delay, said = CONNECT_RETRY_FIRST, ""
        while True:
            try:
                await self.transport.connect()
            except TransportError as err:
                self.errors.report(Part.CLOUD, err.code, str(err))
                log = _LOGGER.debug if str(err) == said else _LOGGER.warning
                log("cannot connect to the cloud: %s (retry in %.0f s)", err, delay)
                said = str(err)
                await asyncio.sleep(delay)
                delay = min(delay * 2, CONNECT_RETRY_MAX)
                continue
            if self.transport.connected:
                self.came_online(None)
            return

    def on_connection(self, event: ConnectionEvent) -> None:
        """A connection event of the transport."""
        if event.state is ConnectionState.CONNECTED:
            self.came_online(event.code)
            return
        self.online = False
        self._connected_at = None
        if self.stopping:
            _LOGGER.info("cloud connection closed: the bridge is stopping")
            return
        reason = event.reason or "the cloud connection was lost"
        self._kicked = event.code == KICK_CODE
        self.errors.report(Part.CLOUD, event.code or "cloud_disconnected", reason)
        _LOGGER.warning("cloud connection %s: %s", event.state.value, reason)
        self.sync.set_online(False)
        self.scope.cloud_online(False)

    def came_online(self, code: str | None) -> None:
        """The connection is up (`code`: a diagnosis the transport still holds)."""
        if self.online:
            return
        self.online = True
        self._connected_at = self._clock()
        if code == KICK_CODE:
            self._kicked = True
        if not self._kicked:
            self.errors.clear(Part.CLOUD)
        verb = "reconnected" if self._ever_connected else "connected"
        self._ever_connected = True
        _LOGGER.info("%s to the cloud at %s", verb, self.where)
        self.sync.set_online(True)
        if self.scope.cloud_online(True):
            task = asyncio.create_task(self.scope.resync(), name="resync-cloud")
            self._resyncs.add(task)
            task.add_done_callback(self._resyncs.discard)

    async def stop(self) -> None:
        """No more events matter: a resync under way is cancelled."""
        self.stopping = True
        await cancel_and_wait(*self._resyncs, ignore_errors=True)

    @property
    def kick_loop(self) -> bool:
        """A duplicate client id keeps kicking us, until a connection stays up 60 s."""
        since = self._connected_at
        if self._kicked and since is not None and self._clock() - since >= KICK_STABLE:
            self._kicked = False
            self.errors.clear(Part.CLOUD, (KICK_CODE,))
        diagnosis = self.transport.diagnosis
        return self._kicked or (diagnosis is not None and diagnosis.code == KICK_CODE)
