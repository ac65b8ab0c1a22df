"""One limiter per cloud connection: publishes/s and bytes/s, with priorities.

AWS IoT Core allows 100 publishes/s (both directions together) and 512 KiB/s per
connection and silently drops the excess. A sliding one-second window (not a token bucket,
whose burst plus refill could reach twice the rate within a second) guarantees that no
second ever holds more than the limits. Waiting publishes go out by priority: control
traffic (activation, ping, command results) first, then structure, high and low sync.
Publishes are also paced (at least 1/rate apart), so that network or broker delays cannot
squeeze two seconds' worth into one second at the receiving end.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from enum import IntEnum
import heapq
import itertools
import time

WINDOW = 1.0
DEFAULT_PUBLISH_RATE = 90
DEFAULT_BYTES_RATE = 512 * 1024


class Priority(IntEnum):
    """Lower goes first."""

    CONTROL = 0
    STRUCTURE = 1
    HIGH = 2
    LOW = 3


class SlidingWindow:
    """Pure logic: how long until one more publish of `nbytes` fits in every 1 s window."""

    def __init__(
        self,
        max_publishes: int = DEFAULT_PUBLISH_RATE,
        max_bytes: int = DEFAULT_BYTES_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_publishes = max_publishes
        self.max_bytes = max_bytes
        self.clock = clock
        self._events: deque[tuple[float, int]] = deque()
        self._bytes = 0

    def _expire(self, now: float) -> None:
        while self._events and self._events[0][0] <= now - WINDOW:
            _, size = self._events.popleft()
            self._bytes -= size

    def delay(self, nbytes: int) -> float:
        """Seconds to wait before a publish of `nbytes` may go (0 = now)."""
        now = self.clock()
        self._expire(now)
        nbytes = min(nbytes, self.max_bytes)
        wait = 0.0
        if self._events:  # pace evenly, so delays on the way cannot bunch a second's worth
            wait = self._events[-1][0] + WINDOW / self.max_publishes - now
        if len(self._events) >= self.max_publishes:
            index = len(self._events) - self.max_publishes
            wait = max(wait, self._events[index][0] + WINDOW - now)
        if self._bytes + nbytes > self.max_bytes:
            excess = self._bytes + nbytes - self.max_bytes
            freed = 0
            for ts, size in self._events:
                freed += size
                if freed >= excess:
                    wait = max(wait, ts + WINDOW - now)
                    break
        return max(0.0, wait)

    def record(self, nbytes: int) -> None:
        """Count one publish (or one inbound message, which shares the quota)."""
        now = self.clock()
        self._expire(now)
        size = min(nbytes, self.max_bytes)
        self._events.append((now, size))
        self._bytes += size

    def try_acquire(self, nbytes: int) -> bool:
        """Record the publish when it fits now."""
        if self.delay(nbytes) > 0:
            return False
        self.record(nbytes)
        return True


@dataclass(order=True, slots=True)
class _Waiter:
    priority: int
    order: int
    nbytes: int = field(compare=False)


class RateLimiter:
    """The async wrapper: `await acquire(priority, nbytes)` before every publish."""

    def __init__(self, window: SlidingWindow | None = None) -> None:
        self.window = window or SlidingWindow()
        self._heap: list[_Waiter] = []
        self._order = itertools.count()
        self._changed = asyncio.Condition()
        self.waited = 0.0

    async def acquire(self, priority: Priority, nbytes: int) -> None:
        """Wait until this publish is the most urgent one and fits the window."""
        me = _Waiter(int(priority), next(self._order), nbytes)
        started = time.monotonic()
        async with self._changed:
            heapq.heappush(self._heap, me)
            try:
                while True:
                    if self._heap[0] is me:
                        wait = self.window.delay(nbytes)
                        if wait <= 0:
                            heapq.heappop(self._heap)
                            self.window.record(nbytes)
                            self._changed.notify_all()
                            break
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), wait)
                    else:
                        await self._changed.wait()
            except BaseException:
                if me in self._heap:
                    self._heap.remove(me)
                    heapq.heapify(self._heap)
                    self._changed.notify_all()
                raise
        self.waited += time.monotonic() - started

    def note_inbound(self, nbytes: int) -> None:
        """An inbound message counts against the same per-connection quota."""
        self.window.record(nbytes)
