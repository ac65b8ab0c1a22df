"""The one polling helper of the tests: wait for a condition with a deadline, never a sleep.

The machine running the tests is shared and loaded, so no test asserts how fast something
happens; it polls until the condition holds and fails only after a generous deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import inspect

# Only a failing test waits this long: generous, since CI shares 2 cores with coverage on.
DEFAULT_TIMEOUT = 30.0
INTERVAL = 0.02


async def wait_for[T](
    condition: Callable[[], T | Awaitable[T]],
    timeout: float = DEFAULT_TIMEOUT,
    what: str = "the condition",
    interval: float = INTERVAL,
) -> T:
    """Call `condition` (plain or async) until its result is truthy, and return that result.

    AssertionError naming `what` after `timeout` seconds of the running loop's clock.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        value: T = await result if inspect.isawaitable(result) else result  # type: ignore[assignment]
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)
