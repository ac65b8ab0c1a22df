"""The bridge gives the memory its large transient jobs freed back to the system."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from cloud_bridge import memory
from tests.bridge.bridge_fixtures import own_entities, start_harness
from tests.helpers.polling import wait_for

needs_trim = pytest.mark.skipif(
    not memory.release_memory(), reason="this C library returns freed memory by itself"
)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@needs_trim
def test_memory_freed_between_survivors_goes_back_to_the_system() -> None:
    # 80 MB in blocks beyond Python's small-object allocator, one in 40 kept: the C heap
    # cannot shrink from its top, so the freed pages stay in the process until released
    blocks = [bytes(2000) + bytes([i % 256]) for i in range(40_000)]
    survivors = blocks[::40]
    del blocks
    gc.collect()
    held = rss_mib()
    assert memory.release_memory()
    assert held - rss_mib() > 40
    assert len(survivors) == 1000


@needs_trim
async def test_the_bridge_releases_memory_after_reading_the_home(tmp_path, broker, fake_ha) -> None:
    own_entities(fake_ha, "light.a", "sensor.b")
    fake_ha.set_state("light.a", "on")
    fake_ha.set_state("sensor.b", "1")
    async with start_harness(tmp_path, broker, fake_ha) as h:
        await wait_for(lambda: h.cloud.records("structure"), what="the snapshot")
        await wait_for(lambda: h.bridge.sync.memory.released >= 1, what="a release")
