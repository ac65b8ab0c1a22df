"""The sync engine drains a reconnect's backlog in lane priority order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cloud_bridge.protocol.packing import PackContext, unpack
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.ratelimit import Priority
from cloud_bridge.storage import Store
from cloud_bridge.sync import SyncEngine
from tests.helpers.polling import wait_for


async def test_backlog_drains_structure_then_high_then_low_even_when_structure_is_slow(
    tmp_path: Path,
) -> None:
    store = Store.in_data_dir(tmp_path)
    await store.open()
    events: list[tuple[str, str]] = []  # (lane, "start" | "end") of each publish

    async def send(topic: str, packet: bytes, priority: Priority) -> None:
        lane = str(unpack(packet)[0]["lane"])
        events.append((lane, "start"))
        if lane == "structure":
            await asyncio.sleep(0.3)  # a big snapshot on a slow link
        events.append((lane, "end"))

    sync = SyncEngine(
        store,
        Topics.for_contract("C-1"),
        PackContext("C-1", "home-1", "pw-1"),
        send,
        high_window=0.0,
        low_window=0.0,
    )
    sync.start()
    try:
        sync.queue_snapshot([], [], [])
        for i in range(5):
            sync.on_state(f"light.l{i}", {"state": "on", "attributes": {}})
            sync.on_state(f"sensor.s{i}", {"state": str(i), "attributes": {}})
        await sync.flush()
        sync.set_online(True)  # the cloud is back: all three lanes wake at once
        await wait_for(lambda: ("low", "end") in events, what="the low lane drained")
        assert events.index(("structure", "end")) < events.index(("high", "start"))
        assert events.index(("high", "end")) < events.index(("low", "start"))
        assert (await store.counts()) == {"structure": 0, "high": 0, "low": 0, "dropped_low": 0}
    finally:
        await sync.stop()
        await store.close()
