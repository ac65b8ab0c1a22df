"""Messages waiting for their answer: repeated with backoff until answered or expired.

Sans-IO: the caller passes `now` in. A message is sent at once, then again after about
`base` seconds, doubling each time with jitter up to `cap`. Adding a message under a key
that is already pending replaces the message (the newest value wins) and restarts its
time-to-live; everyone waiting on the key gets the one answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import heapq
import random
from typing import Any

type PendingKey = tuple[str, ...]

DEFAULT_BASE = 0.5
DEFAULT_CAP = 3.0
JITTER = 0.25


@dataclass(slots=True)
class Pending:
    """One message on its way: to whom, what, how often tried, until when."""

    key: PendingKey
    controller: str
    message: dict[str, Any]
    deadline: float | None
    next_at: float
    attempts: int = 0
    waiters: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before the next try: base * 2**attempt, capped, times 1 +/- JITTER."""

    base: float = DEFAULT_BASE
    cap: float = DEFAULT_CAP
    rng: Callable[[], float] = random.random

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the given number of sends."""
        plain = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return float(plain * (1 - JITTER + 2 * JITTER * self.rng()))


class PendingTable:
    """Pending messages by key, with a heap of when each is next due."""

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self._items: dict[PendingKey, Pending] = {}
        self._heap: list[tuple[float, int, PendingKey]] = []
        self._counter = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: PendingKey) -> Pending | None:
        """The pending message under key."""
        return self._items.get(key)

    def items(self) -> list[Pending]:
        """Everything pending."""
        return list(self._items.values())

    def _push(self, when: float, key: PendingKey) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (when, self._counter, key))

    def add(
        self,
        key: PendingKey,
        controller: str,
        message: dict[str, Any],
        now: float,
        *,
        ttl: float | None,
        waiter: int | None = None,
    ) -> Pending:
        """Send message now and until answered; a newer message under key replaces it."""
        deadline = None if ttl is None else now + ttl
        item = self._items.get(key)
        if item is None:
            item = Pending(key, controller, message, deadline, now)
            self._items[key] = item
        else:
            item.message, item.deadline, item.next_at, item.attempts = message, deadline, now, 0
        if waiter is not None:
            item.waiters.append(waiter)
        self._push(now, key)
        return item

    def resolve(self, key: PendingKey) -> Pending | None:
        """The answer came: forget the message and hand it back (None if not pending)."""
        return self._items.pop(key, None)

    def due(self, now: float) -> tuple[list[Pending], list[Pending]]:
        """(messages to send now, messages whose time-to-live ran out, now forgotten)."""
        send: list[Pending] = []
        expired: list[Pending] = []
        while self._heap and self._heap[0][0] <= now:
            when, _, key = heapq.heappop(self._heap)
            item = self._items.get(key)
            if item is None or item.next_at != when:
                continue  # resolved, or rescheduled by a newer add
            if item.deadline is not None and now >= item.deadline:
                expired.append(self._items.pop(key))
                continue
            item.attempts += 1
            item.next_at = now + self.backoff.delay(item.attempts)
            if item.deadline is not None:
                item.next_at = min(item.next_at, item.deadline)
            self._push(item.next_at, key)
            send.append(item)
        return send, expired

    def next_wakeup(self) -> float | None:
        """When `due` next has something to do."""
        while self._heap:
            when, _, key = self._heap[0]
            item = self._items.get(key)
            if item is not None and item.next_at == when:
                return when
            heapq.heappop(self._heap)
        return None

    def drop_controller(self, controller: str) -> list[Pending]:
        """Forget everything pending to one controller (its entry is unloading)."""
        gone = [item for item in self._items.values() if item.controller == controller]
        for item in gone:
            del self._items[item.key]
        return gone
