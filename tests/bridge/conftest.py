"""Fixtures of the bridge core tests: a real broker, the fake HA, a cloud peer, a bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.bridge.bridge_fixtures import BridgeHarness, start_harness
from tests.helpers.certs import PKI, make_pki
from tests.helpers.fake_ha import FakeHA, running_fake_ha
from tests.helpers.mosquitto import Broker, running_broker


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    """A CA, a server certificate for localhost and a client certificate (TLS tests)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A Mosquitto broker on a free port."""
    with running_broker() as running:
        yield running


@pytest.fixture
async def fake_ha() -> AsyncIterator[FakeHA]:
    """A fake Home Assistant WebSocket server."""
    async with running_fake_ha() as fake:
        yield fake


@pytest.fixture
async def harness(tmp_path, broker: Broker, fake_ha: FakeHA) -> AsyncIterator[BridgeHarness]:
    """A running bridge (MqttTransport, real SQLite) plus a cloud peer on the same broker."""
    async with start_harness(tmp_path, broker, fake_ha) as running:
        yield running
