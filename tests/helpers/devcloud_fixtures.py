"""Fixtures: a running DevCloud (real SQLite, real Mosquitto) and a scripted home."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devkit.devcloud import ContractSpec, DevCloud
from tests.helpers.devcloud_home import CONTRACT, INSTANCE, PASSWORD, Home
from tests.helpers.mosquitto import Broker
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
