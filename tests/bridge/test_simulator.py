"""The device simulator speaks Contract 2 on a real Mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from devkit.simulator import Fleet, SimConfig, SimDeviceSpec
from devkit.simulator.device import sensor_bounds
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for
from tests.helpers.sim_fixtures import broker, observer
from tests.helpers.sim_observer import Observer

__all__ = ["broker", "observer"]

BASE = "inspextor"

SPECS = [
    SimDeviceSpec("b5ea3f/42", "Kitchen light", "light", "Kitchen", {"M": "brightness"}),
    SimDeviceSpec("b5ea3f/43", "Desk light", "rgbw_light", "Office"),
    SimDeviceSpec("b5ea3f/44", "Living shade", "shade", "Living room"),
    SimDeviceSpec("b5ea3f/45", "Hall sensor", "steinel", "Hall"),
    SimDeviceSpec("b5ea3f/46", "Ozone", "ozone"),
    SimDeviceSpec("b5ea3f/47", "Door motion", "motion"),
]


async def start_fleet(broker: Broker, config: SimConfig | None = None) -> Fleet:
    fleet = Fleet(SPECS, broker.host, broker.port, base=BASE, config=config, seed=1)
    await fleet.start()
    return fleet


@pytest.fixture
async def fleet(broker: Broker) -> AsyncIterator[Fleet]:
    running = await start_fleet(broker, SimConfig(shade_travel_time=0.5, announce=True))
    yield running
    await running.stop()


async def test_availability_retained_and_last_will(broker: Broker, fleet: Fleet) -> None:
    late = await Observer(broker.host, broker.port).start(f"{BASE}/+/+/availability")
    try:
        await late.wait_for(lambda m: len(m) == len(SPECS))
        assert {m.text for m in late.messages} == {"online"}
    finally:
        await late.stop()

    fleet["b5ea3f/42"].kill()

    # A subscriber arriving afterwards gets the broker's retained will (once the broker
    # has seen the connection drop: a new subscriber each time until then).
    async def retained_offline() -> bool:
        obs = await Observer(broker.host, broker.port).start(f"{BASE}/b5ea3f/42/availability")
        try:
            await obs.wait_for(bool, 1.0)  # the retained status, online or not
            return any(x.text == "offline" for x in obs.messages)
        except AssertionError:
            return False
        finally:
            await obs.stop()

    await wait_for(retained_offline, what="the broker's retained last will")


async def test_clean_stop_publishes_offline(broker: Broker, observer: Observer) -> None:
    fleet = await start_fleet(broker)
    await fleet.stop()
    topic = f"{BASE}/b5ea3f/44/availability"
    await observer.wait_for(lambda m: [x.text for x in m if x.topic == topic][-1:] == ["offline"])


async def test_announce_is_retained(broker: Broker, fleet: Fleet) -> None:
    obs = await Observer(broker.host, broker.port).start(f"{BASE}/+/+/announce")
    try:
        await obs.wait_for(lambda m: len(m) == len(SPECS))
        body = obs.on(f"{BASE}/b5ea3f/42/announce")[0].json
        assert body["name"] == "Kitchen light"
        assert body["kind"] == "light"
        assert body["area"] == "Kitchen"
        assert body["subtopics"] == {"M": "brightness"}
    finally:
        await obs.stop()


async def test_command_confirmed_with_cid(fleet: Fleet, observer: Observer) -> None:
    observer.publish(f"{BASE}/b5ea3f/42/M/command", {"value": 128, "cid": "c-1"})
    echo = await observer.wait_topic(f"{BASE}/b5ea3f/42/M/status", cid="c-1")
    assert echo.json == {"value": 128, "cid": "c-1"}

    observer.publish(f"{BASE}/b5ea3f/43/color/command", {"value": [1, 2, 3, 4], "cid": "c-2"})
    echo = await observer.wait_topic(f"{BASE}/b5ea3f/43/color/status", cid="c-2")
    assert echo.json["value"] == [1, 2, 3, 4]
    assert fleet["b5ea3f/43"].state["color"] == [1, 2, 3, 4]


async def test_bad_commands_are_not_confirmed(fleet: Fleet, observer: Observer) -> None:
    light = f"{BASE}/b5ea3f/42"
    observer.publish(f"{light}/M/command", {"value": 300, "cid": "too-big"})
    observer.publish(f"{light}/M/command", {"value": True, "cid": "bool"})
    observer.publish(f"{light}/M/command", "not json")
    observer.publish(f"{light}/M/command", {"cid": "no-value"})
    observer.publish(f"{light}/X/command", {"value": 1, "cid": "unknown-subtopic"})
    observer.publish(f"{BASE}/b5ea3f/45/temperature/command", {"value": 5, "cid": "sensor"})
    observer.publish(f"{light}/M/command", {"value": 7, "cid": "good"})
    await observer.wait_topic(f"{light}/M/status", cid="good")
    cids = {m.json.get("cid") for m in observer.messages if m.topic.endswith("/status")}
    assert cids == {"good"}
    assert fleet["b5ea3f/42"].state["brightness"] == 7


async def test_ask_answered_site_wide_and_per_device(fleet: Fleet, observer: Observer) -> None:
    observer.publish(f"{BASE}/ask", {"cid": "ask-1"})
    await observer.wait_for(
        lambda m: (
            {x.topic for x in m}
            >= {
                f"{BASE}/b5ea3f/42/M/status",
                f"{BASE}/b5ea3f/43/brightness/status",
                f"{BASE}/b5ea3f/43/color/status",
                f"{BASE}/b5ea3f/44/position/status",
                f"{BASE}/b5ea3f/44/motion/status",
                f"{BASE}/b5ea3f/45/illuminance/status",
                f"{BASE}/b5ea3f/45/temperature/status",
                f"{BASE}/b5ea3f/45/humidity/status",
                f"{BASE}/b5ea3f/45/motion/status",
                f"{BASE}/b5ea3f/46/ozone/status",
                f"{BASE}/b5ea3f/47/motion/status",
            }
        )
    )
    assert all(d.asks_answered == 1 for d in fleet.devices.values())

    observer.messages.clear()
    observer.publish(f"{BASE}/b5ea3f/46/ask", {"cid": "ask-2"})
    await observer.wait_topic(f"{BASE}/b5ea3f/46/ozone/status")
    await observer.wait_topic(f"{BASE}/b5ea3f/46/availability")
    assert fleet["b5ea3f/46"].asks_answered == 2
    assert fleet["b5ea3f/42"].asks_answered == 1


async def test_shade_travels_and_reports(fleet: Fleet, observer: Observer) -> None:
    shade = f"{BASE}/b5ea3f/44"
    observer.publish(f"{shade}/position/command", {"value": 50, "cid": "s-1"})
    echo = await observer.wait_topic(f"{shade}/position/status", cid="s-1")
    assert echo.json["value"] == 0  # confirmed at once with the current position
    await observer.wait_topic(f"{shade}/motion/status", value="stopped")
    motion = [m.json["value"] for m in observer.on(f"{shade}/motion/status")]
    positions = [m.json["value"] for m in observer.on(f"{shade}/position/status")]
    assert motion == ["opening", "stopped"]
    assert positions == [0, 10, 20, 30, 40, 50]

    observer.messages.clear()
    observer.publish(f"{shade}/position/command", {"value": 0, "cid": "s-2"})
    await observer.wait_topic(f"{shade}/motion/status", value="closing")
    await observer.wait_topic(f"{shade}/position/status", value=40)  # under way
    observer.publish(f"{shade}/motion/command", {"value": "stop", "cid": "s-3"})
    stop_echo = await observer.wait_topic(f"{shade}/motion/status", cid="s-3")
    assert stop_echo.json["value"] == "stopped"
    await asyncio.sleep(0.1)  # a stopped shade must not keep moving
    position = fleet["b5ea3f/44"].state["position"]
    assert 0 < position <= 40  # type: ignore[operator]
    assert observer.on(f"{shade}/position/status")[-1].json["value"] == position

    observer.messages.clear()
    observer.publish(f"{shade}/position/command", {"value": position, "cid": "s-4"})
    await observer.wait_topic(f"{shade}/position/status", cid="s-4")
    await observer.wait_topic(f"{shade}/motion/status", value="stopped")


async def test_sensors_drift_within_bounds(broker: Broker, observer: Observer) -> None:
    fleet = await start_fleet(broker, SimConfig(sensor_interval=0.01, motion_interval=0.02))
    try:

        def enough(messages: list) -> bool:  # type: ignore[type-arg]
            temps = [m for m in messages if m.topic == f"{BASE}/b5ea3f/45/temperature/status"]
            return len(temps) >= 40

        await observer.wait_for(enough)
    finally:
        await fleet.stop()
    for capability, device in (
        ("illuminance", "45"),
        ("temperature", "45"),
        ("humidity", "45"),
        ("ozone", "46"),
    ):
        values = [
            m.json["value"] for m in observer.on(f"{BASE}/b5ea3f/{device}/{capability}/status")
        ]
        low, high = sensor_bounds(capability)
        assert values, capability
        assert all(low <= v <= high for v in values), (capability, values)
        assert len(set(values)) > 1, f"{capability} never changed"
    motion = {m.json["value"] for m in observer.on(f"{BASE}/b5ea3f/47/motion/status")}
    assert motion == {True, False}


async def test_drop_rate_and_confirm_delay(broker: Broker, observer: Observer) -> None:
    fleet = await start_fleet(broker, SimConfig(drop_rate=1.0))
    try:
        observer.publish(f"{BASE}/b5ea3f/42/M/command", {"value": 9, "cid": "lost"})
        await observer.wait_for(lambda _m: fleet["b5ea3f/42"].commands_dropped == 1)
        await asyncio.sleep(0.1)
        assert not observer.on(f"{BASE}/b5ea3f/42/M/status")
    finally:
        await fleet.stop()

    fleet = await start_fleet(broker, SimConfig(confirm_delay=0.3))
    try:
        loop = asyncio.get_running_loop()
        sent = loop.time()
        observer.publish(f"{BASE}/b5ea3f/42/M/command", {"value": 9, "cid": "slow"})
        await observer.wait_topic(f"{BASE}/b5ea3f/42/M/status", cid="slow")
        assert loop.time() - sent >= 0.3
    finally:
        await fleet.stop()


async def test_flood_publishes_at_rate(fleet: Fleet, observer: Observer) -> None:
    sent = await fleet.flood(500, 0.5)
    assert 230 <= sent <= 260
    await observer.wait_for(lambda m: sum(1 for x in m if x.topic.endswith("/status")) >= sent)
    assert await fleet.flood(0, 1) == 0
