"""The asyncio adapter: one UDP socket driving an `Engine`.

Everything protocol is in the engine; this file only moves datagrams, runs the timer the
engine asks for, and turns `Result` events into awaited futures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Any

from .engine import Engine
from .events import Event, Result

_LOGGER = logging.getLogger(__name__)


class RequestFailed(Exception):
    """A request expired before its answer came."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Endpoint(asyncio.DatagramProtocol):
    """Home Assistant's socket of one things_sync site."""

    def __init__(self, engine: Engine, on_events: Callable[[list[Event]], None]) -> None:
        self.engine = engine
        self.on_events = on_events
        self.transport: asyncio.DatagramTransport | None = None
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.bytes_sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Socket bound."""
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Feed the engine, then send what it answers."""
        self.engine.receive(data, (str(addr[0]), int(addr[1])))
        self.pump()

    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable and the like: the repeats deal with it."""
        _LOGGER.debug("things_sync socket error: %s", exc)

    def pump(self) -> None:
        """Send what is due, hand events over, arm the timer for the next due time."""
        if self.transport is None or self.transport.is_closing():
            return
        for addr, data in self.engine.poll():
            self.bytes_sent += len(data)
            self.transport.sendto(data, addr)
        self._dispatch(self.engine.take_events())
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wake = self.engine.next_wakeup()
        if wake is not None:
            self._timer = self._loop.call_at(wake, self.pump)

    def _dispatch(self, events: list[Event]) -> None:
        others: list[Event] = []
        for event in events:
            if isinstance(event, Result):
                future = self._waiting.pop(event.token, None)
                if future is None or future.done():
                    continue
                if event.ok:
                    future.set_result(event.value)
                else:
                    future.set_exception(RequestFailed(event.error or "failed"))
            else:
                others.append(event)
        if others:
            self.on_events(others)

    @property
    def address(self) -> tuple[str, int]:
        """Where the socket listens."""
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Ask every controller for everything it owns."""
        self.engine.start()
        self.pump()

    def track(self, token: int) -> asyncio.Future[Any]:
        """The answer to a request the engine just accepted (RequestFailed on expiry).

        Call it right after the engine call, before yielding to the loop, so the answer
        cannot come first; it sends the request at once.
        """
        future: asyncio.Future[Any] = self._loop.create_future()
        self._waiting[token] = future
        self.pump()
        return future

    def close(self) -> None:
        """Stop the timer and the socket; waiting requests fail."""
        if self._timer is not None:
            self._timer.cancel()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(RequestFailed("closed"))
        self._waiting.clear()
        if self.transport is not None:
            self.transport.close()


async def open_endpoint(
    engine: Engine,
    host: str,
    port: int,
    on_events: Callable[[list[Event]], None],
    *,
    start: bool = True,
) -> Endpoint:
    """Bind the site's socket; `start` asks every controller at once (else call `start`)."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: Endpoint(engine, on_events), local_addr=(host, port)
    )
    if start:
        protocol.start()
    return protocol
