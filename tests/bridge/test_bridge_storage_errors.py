"""The bridge stays up and says why when its data folder cannot be used."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

from cloud_bridge.app import run
from tests.bridge.bridge_fixtures import (
    bridge_config,
    own_entities,
    start_cloud_peer,
    start_harness,
)
from tests.helpers.polling import wait_for


async def test_bridge_runs_in_memory_and_reports_last_error(tmp_path, broker, fake_ha) -> None:
    data = tmp_path / "data"
    data.write_text("not a folder")
    fake_ha.add_entity("light.kitchen", platform="inspextor")
    fake_ha.set_state("light.kitchen", "on")
    async with start_harness(data.parent / "data", broker, fake_ha) as h:
        status = await h.bridge.status()
        assert status["last_error"]["code"] == "storage_readonly"
        assert status["last_error"]["at"] <= time.time()
        # still syncing and answering
        await wait_for(lambda: h.cloud.records("high"), what="states synced from memory")
        assert (await h.bridge.ping_now())["ok"] is True


async def test_process_survives_a_data_folder_that_is_a_file(tmp_path, broker, fake_ha) -> None:
    """Found by tests/reliability: mkdir and the token file used to crash `run` at start."""
    data = tmp_path / "data"
    data.write_text("not a folder")
    config = bridge_config(data, broker, fake_ha)
    config = dataclasses.replace(config, api_token="")
    own_entities(fake_ha, "light.kitchen")
    fake_ha.set_state("light.kitchen", "on")
    peer = await start_cloud_peer(broker)
    stop = asyncio.Event()
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    task = asyncio.create_task(run(config, stop))
    try:
        await wait_for(lambda: peer.records("high"), timeout=10, what="syncing from memory")
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await peer.transport.disconnect()
        for handler in root.handlers:
            for flt in list(handler.filters):
                handler.removeFilter(flt)
        root.handlers[:] = handlers
        root.setLevel(level)
