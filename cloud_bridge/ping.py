"""Ping: every N seconds (0 = off) publish to `inx/ping` and time the cloud's echo."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.protocol.packets import (
    PacketError,
    decode,
    encode,
    parse_ping_reply,
    ping_request,
)
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.ratelimit import Priority
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.sync import SendFunc
from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)


class PingError(Exception):
    """A ping got no reply or could not be sent."""


class PingManager:
    """Sends pings, matches replies by seq, keeps the last rtt and success."""

    def __init__(
        self,
        store: Store,
        topics: Topics,
        contract_id: str,
        send: SendFunc,
        *,
        interval: float = 60.0,
        timeout: float = 10.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self.store = store
        self.topics = topics
        self.contract_id = contract_id
        self._send = send
        self.interval = interval
        self.timeout = timeout
        self._seq = 0
        self._pending: dict[int, tuple[float, asyncio.Future[float]]] = {}
        self.last_rtt_ms: float | None = None
        self.last_success: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        """Restore the last success and seq from the store."""
        saved = await self.store.get("ping", {})
        self.last_rtt_ms = saved.get("last_rtt_ms")
        self.last_success = saved.get("last_success")
        self._seq = int(saved.get("seq", 0))

    def start(self) -> None:
        """Ping periodically (does nothing when the interval is 0)."""
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="ping")

    async def stop(self) -> None:
        """Stop the periodic ping."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.ping()
            except PingError as err:
                _LOGGER.info("ping failed: %s", err)

    def on_reply(self, payload: bytes) -> None:
        """A message on `inx/<cid>/ping`."""
        try:
            reply = parse_ping_reply(decode(payload))
        except PacketError as err:
            _LOGGER.warning("ignored a malformed ping reply: %s", err)
            return
        pending = self._pending.get(reply.seq) if reply.seq is not None else None
        if pending is None or pending[1].done():
            _LOGGER.debug("ignored a ping reply for no pending ping (seq %s)", reply.seq)
            return
        pending[1].set_result((time.monotonic() - pending[0]) * 1000.0)

    async def ping(self) -> float:
        """Ping now; returns the round-trip time in ms or raises PingError."""
        self._seq += 1
        seq = self._seq
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending[seq] = (time.monotonic(), future)
        try:
            packet = encode(ping_request(self.contract_id, self._clock(), seq))
            try:
                await self._send(self.topics.ping, packet, Priority.CONTROL)
            except TransportError as err:
                raise PingError(f"could not publish: {err}") from err
            try:
                rtt = await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                raise PingError(f"no reply within {self.timeout:g} s") from None
        finally:
            self._pending.pop(seq, None)
        self.last_rtt_ms = round(rtt, 1)
        self.last_success = self._clock()
        with contextlib.suppress(StorageError):
            await self.store.set(
                "ping",
                {"last_rtt_ms": self.last_rtt_ms, "last_success": self.last_success, "seq": seq},
            )
        return self.last_rtt_ms
