"""The demo's broker helper: Mosquitto when installed, embedded amqtt otherwise."""

from __future__ import annotations

import asyncio
import logging

import pytest

from devkit.devcloud import broker as broker_module
from devkit.devcloud.broker import LocalBroker, start_local_broker
from devkit.simulator import Fleet, generate_fleet
from tests.helpers.mosquitto import free_port
from tests.helpers.sim_observer import Observer


async def round_trip(broker: LocalBroker) -> None:
    """A device's retained availability and its answer to an ask go through the broker."""
    fleet = Fleet(generate_fleet(1, seed=1), broker.host, broker.port)
    await fleet.start()
    obs = await Observer(broker.host, broker.port).start("inspextor/#")
    try:
        await obs.wait_for(lambda m: any(x.topic.endswith("/availability") for x in m))
        obs.publish("inspextor/ask", {"cid": "a"})
        await obs.wait_for(lambda m: any(x.topic.endswith("/status") for x in m))
    finally:
        await obs.stop()
        await fleet.stop()


async def test_mosquitto_is_chosen_when_installed(caplog: pytest.LogCaptureFixture) -> None:
    assert broker_module.find_mosquitto() is not None
    caplog.set_level(logging.INFO, "devkit.devcloud.broker")
    broker = await start_local_broker(port=free_port())
    try:
        assert broker.kind == "mosquitto"
        assert "local broker: mosquitto" in caplog.text
        await round_trip(broker)
    finally:
        await broker.stop()


async def test_amqtt_is_used_without_mosquitto(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(broker_module, "find_mosquitto", lambda: None)
    caplog.set_level(logging.INFO, "devkit.devcloud.broker")
    broker = await start_local_broker(port=free_port())
    try:
        assert broker.kind == "amqtt"
        assert "local broker: amqtt" in caplog.text
        await round_trip(broker)
    finally:
        await broker.stop()
    await asyncio.sleep(0)


async def test_mosquitto_that_cannot_listen_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module, "find_mosquitto", lambda: "/bin/false")
    with pytest.raises(OSError, match="mosquitto exited with code 1"):
        await broker_module.start_mosquitto("/bin/false", "127.0.0.1", free_port())
