"""The S3 store unreachable for 60 s in the middle of a command file and while another
file waits: when it is back every result arrives and no command ran twice or was lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
import hashlib
import json
from pathlib import Path
import time
from typing import Any

import pytest

from tests.bridge.store_channel_fixtures import COMMANDS_KEY, channel_rig
from tests.helpers.polling import wait_for
from tests.helpers.s3_server import S3Server, running_s3
from tests.helpers.tcp_proxy import FaultyProxy
from tests.reliability import table

OUTAGE = 60.0
SLOW_CALL = 0.5


@pytest.fixture
def s3() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


def _file(first: int, count: int) -> list[str]:
    return [
        f"call_service('light.turn_on', 'light.kitchen', {{'brightness': {b}}})"
        for b in range(first, first + count)
    ]


async def test_s3_down_for_60_s_loses_nothing(tmp_path: Path, s3: S3Server) -> None:
    proxy = FaultyProxy(s3.host, s3.port)
    await proxy.up()
    async with channel_rig(
        tmp_path,
        "s3",
        s3,
        endpoint=proxy.endpoint,
        start=True,
        poll_interval=1.0,
        status_interval=1.0,
    ) as rig:
        rig.channel.retry_first = 0.2
        real_call = rig.ha.call_service

        async def slow_call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(SLOW_CALL)
            return await real_call(*args, **kwargs)

        rig.ha.call_service = slow_call  # type: ignore[method-assign]
        running = await rig.put_commands(_file(1, 4))
        await wait_for(lambda: rig.ha.calls, 20, "the first call of the running file")
        await proxy.down()  # mid-file: its result cannot be uploaded
        started = time.monotonic()
        await asyncio.sleep(3 * SLOW_CALL * 4)  # the running file finishes inside the outage
        queued = await rig.put_commands(_file(5, 3))  # put while the bridge cannot see it
        await wait_for(lambda: rig.channel.last_error, 10, "the channel to notice")
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
        await proxy.up()
        result = await rig.wait_result(hashlib.sha256(queued).hexdigest(), timeout=90)
        ledger = await rig.channel.ledger.find(COMMANDS_KEY, hashlib.sha256(running).hexdigest())
        kept = await rig.cloud_status.get(
            rig.channel.version_key(hashlib.sha256(running).hexdigest())
        )
        calls = Counter(int(c[2]["brightness"]) for c in rig.ha.calls)
    await proxy.down()
    twice = sorted(b for b, n in calls.items() if n > 1)
    lost = sorted(set(range(1, 8)) - set(calls))
    table.record(
        "S3 store down 60 s (store channel)",
        7,
        len(lost),
        len(twice),
        0,
        "one file mid-run, one put during the outage",
    )
    assert twice == []
    assert lost == []
    assert [c["status"] for c in result["commands"]] == ["ok"] * 3
    assert ledger is not None
    assert ledger.state == "done"
    assert ledger.uploaded  # the result made during the outage went up after it
    assert kept is not None  # and is kept, though the next file's result is the last one
    assert [c["status"] for c in json.loads(kept.data)["commands"]] == ["ok"] * 4
