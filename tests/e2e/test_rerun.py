"""A second run on the same folder reuses the first: same login, same entries, all loaded."""

from __future__ import annotations

import time

import pytest

from devkit.devstack.stack import Stack, StackConfig
from tests.helpers.mosquitto import mosquitto_path

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_second_run_reuses_the_first(tmp_path) -> None:
    """What `make demo` does twice: the second start reuses HA's user, token and entries."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    config = StackConfig.for_tests(tmp_path)
    first = Stack(config)
    try:
        await first.start()
        assert first.hass is not None
        credentials = first.hass.credentials
        entries = {e["entry_id"] for e in await first.hass.config_entries("inspextor")}
    finally:
        await first.stop()
    second = Stack(config)
    try:
        started = time.monotonic()
        await second.start()
        print(f"second start: {time.monotonic() - started:.1f} s")
        assert second.hass is not None
        assert second.hass.credentials == credentials
        now = await second.hass.config_entries("inspextor")
        assert {e["entry_id"] for e in now} == entries
        assert all(e["state"] == "loaded" for e in now), now
        # The reloaded bridge entry works: its exposure options reach the bridge.
        await second.set_exposure(["light.kitchen_light"])
        status, body = await second.bridge_api("GET", "/api/exposure")
        assert status == 200
        assert body["entities"] == ["light.kitchen_light"]
    finally:
        await second.stop()
