"""cancel_and_wait: tasks are cancelled and waited for; the caller's own cancellation is kept."""

from __future__ import annotations

import asyncio

import pytest

from cloud_bridge.tasks import cancel_and_wait


class SlowToStop:
    """A task that, once cancelled, ends only when released (a loop finishing its cleanup)."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self.release = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            await self.release.wait()
            raise


async def _forever() -> None:
    await asyncio.Event().wait()


async def _fails_on_cancel() -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        raise ValueError("cleanup failed") from None


async def test_cancels_and_waits_until_every_task_has_ended() -> None:
    slow = SlowToStop()
    other = asyncio.create_task(_forever())
    await asyncio.sleep(0)  # both tasks reach their wait
    stopping = asyncio.create_task(cancel_and_wait(slow.task, None, other))
    await slow.cancelled.wait()
    assert not stopping.done()  # still waiting for the slow task's cleanup
    slow.release.set()
    await stopping  # returns normally: the tasks' cancellation is swallowed
    assert slow.task.cancelled()
    assert other.cancelled()


async def test_nothing_to_cancel() -> None:
    await cancel_and_wait()
    await cancel_and_wait(None)
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    await cancel_and_wait(done)
    assert not done.cancelled()  # a finished task keeps its result


async def test_the_callers_own_cancellation_propagates() -> None:
    """A stop() cancelled while it waits must end cancelled, not carry on as if stopped."""
    slow = SlowToStop()
    went_on: list[str] = []

    async def stop() -> None:
        await cancel_and_wait(slow.task)
        went_on.append("after the wait")

    await asyncio.sleep(0)
    stopper = asyncio.create_task(stop())
    await slow.cancelled.wait()
    stopper.cancel()
    slow.release.set()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert stopper.cancelled()
    assert went_on == []
    await asyncio.wait([slow.task])


async def test_cleanup_under_cancellation_goes_on() -> None:
    """Called from a task already being cancelled, it still waits and lets cleanup finish."""
    slow = SlowToStop()
    steps: list[str] = []

    async def owner() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await cancel_and_wait(slow.task)
            steps.append("cleaned up")
            raise

    owning = asyncio.create_task(owner())
    await asyncio.sleep(0)
    owning.cancel()
    await slow.cancelled.wait()
    slow.release.set()
    with pytest.raises(asyncio.CancelledError):
        await owning
    assert steps == ["cleaned up"]
    assert slow.task.cancelled()


async def test_a_tasks_error_is_raised_unless_ignored() -> None:
    failing = asyncio.create_task(_fails_on_cancel())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="cleanup failed"):
        await cancel_and_wait(failing)

    failing = asyncio.create_task(_fails_on_cancel())
    other = asyncio.create_task(_forever())
    await asyncio.sleep(0)
    await cancel_and_wait(failing, other, ignore_errors=True)
    assert isinstance(failing.exception(), ValueError)
    assert other.cancelled()
