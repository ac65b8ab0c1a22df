"""Stopping background tasks: cancel them and wait until they have ended."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Future[Any] | None, ignore_errors: bool = False) -> None:
    """Cancel the tasks, then wait until every one has ended (None entries are skipped).

    Their cancellation is swallowed. Any other exception a task ended with is raised
    here (the first, in argument order), as `await task` would, unless ignore_errors.

    When the task calling this is itself cancelled while it waits, that cancellation
    propagates: the caller's own CancelledError is never taken for a task's. A caller
    that is already being cancelled when it calls this (cleanup in an `except
    CancelledError` or `finally` block) still waits, and goes on with its cleanup.
    """
    pending = [task for task in tasks if task is not None]
    if not pending:
        return
    for task in pending:
        task.cancel()
    # asyncio.wait raises nothing a task ended with: a CancelledError out of it can
    # only be the caller's own, and it propagates.
    await asyncio.wait(pending)
    for task in pending:
        if task.cancelled():
            continue
        error = task.exception()
        if error is not None and not ignore_errors:
            raise error
