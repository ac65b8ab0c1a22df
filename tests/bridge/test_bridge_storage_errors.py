"""The bridge stays up and says why when its data folder cannot be used."""

from __future__ import annotations

import time

from tests.bridge.bridge_fixtures import start_harness, wait_for


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
