"""The connection's rate limiter: pure window logic, priorities, and a real broker flood."""

from __future__ import annotations

import asyncio
import time

import pytest

from cloud_bridge.publisher import Publisher
from cloud_bridge.ratelimit import Priority, RateLimiter, SlidingWindow
from cloud_bridge.transport.base import TransportError
from cloud_bridge.transport.mqtt import MqttTransport
from tests.bridge.bridge_fixtures import RateCounter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_limits_publishes_per_second() -> None:
    clock = Clock()
    window = SlidingWindow(max_publishes=3, max_bytes=10_000, clock=clock)
    assert window.try_acquire(10)
    assert window.delay(10) == pytest.approx(1 / 3)  # paced
    clock.now += 0.01
    window.record(10)
    window.record(10)
    assert not window.try_acquire(10)
    clock.now += 0.4
    assert window.delay(10) == pytest.approx(0.59)  # until the first leaves the window
    clock.now += 0.59
    assert window.try_acquire(10)


def test_window_limits_bytes_per_second() -> None:
    clock = Clock()
    window = SlidingWindow(max_publishes=10, max_bytes=1000, clock=clock)
    assert window.try_acquire(600)
    clock.now += 0.5
    assert window.try_acquire(300)
    assert window.delay(200) == pytest.approx(0.5)  # the 600 must leave the window first
    clock.now += 0.5
    assert window.try_acquire(200)
    assert window.delay(5000) > 0  # larger than the budget: waits for an empty window


def test_inbound_messages_share_the_quota() -> None:
    clock = Clock()
    limiter_window = SlidingWindow(max_publishes=2, clock=clock)
    limiter = RateLimiter(limiter_window)
    limiter.note_inbound(10)
    limiter.note_inbound(10)
    assert limiter_window.delay(1) == pytest.approx(1.0)


async def test_priorities_control_first_then_structure_high_low() -> None:
    limiter = RateLimiter(SlidingWindow(max_publishes=1, max_bytes=10_000))
    order: list[str] = []
    await limiter.acquire(Priority.LOW, 1)  # the window is now full for ~1 s

    async def go(name: str, prio: Priority) -> None:
        await limiter.acquire(prio, 1)
        order.append(name)

    limiter.window.max_publishes = 1
    tasks = [
        asyncio.create_task(go("low", Priority.LOW)),
        asyncio.create_task(go("high", Priority.HIGH)),
        asyncio.create_task(go("structure", Priority.STRUCTURE)),
        asyncio.create_task(go("control", Priority.CONTROL)),
    ]
    await asyncio.sleep(0.05)
    limiter.window.max_publishes = 100  # let them through, most urgent first
    async with limiter._changed:
        limiter._changed.notify_all()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert order == ["control", "structure", "high", "low"]


async def test_cancelled_waiter_does_not_block_the_rest() -> None:
    limiter = RateLimiter(SlidingWindow(max_publishes=1))
    await limiter.acquire(Priority.LOW, 1)
    first = asyncio.create_task(limiter.acquire(Priority.CONTROL, 1))
    await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert limiter._heap == []


async def test_flood_stays_under_100_per_second_at_the_broker(broker) -> None:
    counter = RateCounter(broker, "inx/#")
    try:
        await counter.ready()
        sender = MqttTransport(broker.host, broker.port, "flooder")
        sender.set_handlers(lambda t, p: None, lambda e: None)
        await sender.connect()
        publisher = Publisher(sender, RateLimiter())  # default: 90/s
        count = 250
        started = time.monotonic()
        await asyncio.gather(
            *(
                publisher.publish("inx/C-100/send_sync_query_low", b"x" * 100, Priority.LOW)
                for _ in range(count)
            )
        )
        assert time.monotonic() - started >= (count / 90) - 1.1
        await counter.collect(count)
        assert counter.busiest_second() <= 100
        with pytest.raises(TransportError, match="exceeds"):
            await publisher.publish("t", b"x" * 131_073, Priority.LOW)
        await sender.disconnect()
        with pytest.raises(TransportError, match="not connected"):
            await publisher.publish("t", b"x", Priority.LOW)
    finally:
        counter.close()
