"""Giving the memory a large transient job freed back to the system.

Reading a large home (HA's registry and states, megabytes of JSON parsed, compressed and
written to the outbox) and packing its structure snapshot free tens of megabytes at once.
glibc's malloc keeps much of that in its heaps (one per thread that allocated), so the
bridge's RSS would stay at that peak: about 30 MiB at 10,000 entities (benchmark 10).
`malloc_trim(0)` gives the free pages back. Other C libraries (musl, in the add-on's Alpine
image) have no such call and return freed memory themselves: there this does nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import ctypes
import logging

from .tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)
RELEASE_DELAY = 1.0  # seconds: the jobs that free come in bursts (a resync's lanes)


def _find_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


_TRIM = _find_trim()


def release_memory() -> bool:
    """Return the free pages of the C heap to the system; False where it cannot be done."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


class MemoryReleaser:
    """Calls `release_memory` off the event loop, once for a burst of requests, a moment
    after its last."""

    def __init__(self, delay: float = RELEASE_DELAY) -> None:
        self.delay = delay
        self.released = 0  # times memory was given back
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def soon(self) -> None:
        """A large job has just freed its memory."""
        if _TRIM is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self.delay, self._start)

    def _start(self) -> None:
        self._timer = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._release(), name="memory-release")

    async def _release(self) -> None:
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(None, release_memory):
            self.released += 1
            _LOGGER.debug("gave freed memory back to the system")

    async def stop(self) -> None:
        """Cancel a pending release."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await cancel_and_wait(self._task)
