"""Pytest fixtures for simulator and dev cloud tests: a real Mosquitto and an observer.

Import the fixtures into a test module: `from tests.helpers.sim_fixtures import broker, observer`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.helpers.mosquitto import Broker, running_broker
from tests.helpers.sim_observer import Observer


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A fresh Mosquitto on a free loopback port."""
    with running_broker() as running:
        yield running


@pytest.fixture
async def observer(broker: Broker) -> AsyncIterator[Observer]:
    """Records everything published on the broker."""
    obs = await Observer(broker.host, broker.port).start("#")
    yield obs
    await obs.stop()
