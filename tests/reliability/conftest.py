"""Fixtures of the reliability suite and the table it prints at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.helpers.fake_ha import FakeHA, running_fake_ha
from tests.helpers.mosquitto import Broker, running_broker
from tests.reliability import table
from tests.reliability.harness import CANARY_HA_TOKEN


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder carries the `reliability` marker."""
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault table collected by the tests."""
    if not table.ROWS:
        return
    terminalreporter.section("reliability: faults injected")
    for line in table.render(table.ROWS):
        terminalreporter.write_line(line)


@pytest.fixture
def broker() -> Iterator[Broker]:
    """The cloud broker: a real Mosquitto on a free port."""
    with running_broker() as running:
        yield running


@pytest.fixture
def persistent_broker() -> Iterator[Broker]:
    """A cloud broker that keeps sessions across a restart.

    The ledger then misses nothing the bridge publishes before it has reconnected. Only
    for tests that do not time arrivals: messages in flight to the ledger at the stop are
    redelivered after the restart and would look like fresh arrivals.
    """
    with running_broker(persistent=True) as running:
        yield running


@pytest.fixture
async def fake_ha() -> AsyncIterator[FakeHA]:
    """A fake Home Assistant whose token is a known canary."""
    async with running_fake_ha(token=CANARY_HA_TOKEN) as fake:
        yield fake
