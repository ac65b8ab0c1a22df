"""Fixtures: a running DevCloud (real SQLite, real Mosquitto) and a scripted home."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from pathlib import Path

from aiohttp import web
import pytest

from devkit.devcloud import ContractSpec, DevCloud
from devkit.devcloud.http import build_app
from tests.helpers.devcloud_home import CONTRACT, INSTANCE, PASSWORD, Home
from tests.helpers.mosquitto import Broker, free_port
from tests.helpers.sim_observer import Observer

CONTRACTS = [
    ContractSpec.parse(f"{CONTRACT}:{INSTANCE}:{PASSWORD}:active:2027-01-01"),
    ContractSpec.parse("C2:I2:pw2:expired:2024-06-30"),
    ContractSpec.parse("C3:I3:pw3"),
]


@pytest.fixture
async def cloud(broker: Broker, tmp_path: Path) -> AsyncIterator[DevCloud]:
    running = DevCloud(broker.host, broker.port, tmp_path / "devcloud.sqlite3")
    await running.start(CONTRACTS)
    yield running
    await running.stop()


@pytest.fixture
def home(observer: Observer, cloud: DevCloud) -> Home:
    return Home(observer)


@contextlib.asynccontextmanager
async def serve(cloud: DevCloud) -> AsyncIterator[str]:
    """The dev cloud's HTTP API and page, served on a free port: its base URL."""
    runner = web.AppRunner(build_app(cloud))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def url(cloud: DevCloud) -> AsyncIterator[str]:
    """The dev cloud's HTTP API and page, served on a free port."""
    async with serve(cloud) as base:
        yield base
