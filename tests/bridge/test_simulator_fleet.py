"""A thousand devices in one process; the command line; site maps."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

from devkit.simulator import (
    Fleet,
    SimConfig,
    dump_site_map,
    generate_fleet,
    load_site_map,
    parse_site_map,
)
from devkit.simulator.__main__ import parse_broker
from devkit.simulator.site_file import KIND_CAPABILITIES, SiteMapError
from tests.helpers.mosquitto import Broker
from tests.helpers.sim_fixtures import broker, observer
from tests.helpers.sim_observer import Observer

__all__ = ["broker", "observer"]


async def test_thousand_devices_start_and_answer_ask(broker: Broker, observer: Observer) -> None:
    specs = generate_fleet(1000, seed=7)
    fleet = Fleet(
        specs,
        broker.host,
        broker.port,
        config=SimConfig(sensor_interval=3600, motion_interval=3600),
    )
    started = time.monotonic()
    await fleet.start()
    start_time = time.monotonic() - started
    try:
        await observer.wait_for(
            lambda m: sum(1 for x in m if x.topic.endswith("/availability")) >= 1000, 30
        )
        expected = sum(len(KIND_CAPABILITIES[s.kind]) for s in specs)
        observer.messages.clear()
        asked = time.monotonic()
        observer.publish("inspextor/ask", {"cid": "resync"})
        await observer.wait_for(
            lambda m: len({x.topic for x in m if x.topic.endswith("/status")}) >= expected, 30
        )
        answer_time = time.monotonic() - asked
        statuses = {x.topic for x in observer.messages if x.topic.endswith("/status")}
        availability = {x.topic for x in observer.messages if x.topic.endswith("/availability")}
    finally:
        await fleet.stop()
    assert len(statuses) == expected
    assert len(availability) == 1000
    # Generous bounds for a shared 2-core machine; typical is ~3 s and ~0.5 s.
    assert start_time < 30, start_time
    assert answer_time < 15, answer_time


async def test_fleet_start_fails_clearly_without_broker() -> None:
    from tests.helpers.mosquitto import free_port

    fleet = Fleet(generate_fleet(2), "127.0.0.1", free_port())
    with pytest.raises(ConnectionError, match="2 of 2 devices could not connect"):
        await fleet.start()


async def test_device_reconnects_after_broker_restart(broker: Broker) -> None:
    fleet = Fleet(generate_fleet(3, seed=1), broker.host, broker.port)
    await fleet.start()
    try:
        broker.restart()  # no persistence: the retained availability is gone
        obs = await Observer(broker.host, broker.port).start("inspextor/#")
        try:
            # Each device says it is online again (retained) once it has reconnected ...
            await obs.wait_for(
                lambda m: len({x.topic for x in m if x.topic.endswith("/availability")}) == 3, 15
            )
            # ... and has resubscribed: it answers an ask.
            obs.publish("inspextor/ask", {"cid": "again"})
            await obs.wait_for(lambda m: sum(1 for x in m if x.topic.endswith("/status")) >= 3)
        finally:
            await obs.stop()
    finally:
        await fleet.stop()


def test_generated_site_map_round_trips(tmp_path: Path) -> None:
    specs = generate_fleet(40, seed=3)
    assert {s.kind for s in specs} == set(KIND_CAPABILITIES)
    assert generate_fleet(40, seed=3) == specs
    for name in ("site.yaml", "site.json"):
        path = tmp_path / name
        dump_site_map(specs, path)
        assert load_site_map(path) == specs
    document = yaml.safe_load((tmp_path / "site.yaml").read_text())
    light = next(s for s in specs if s.kind == "light")
    assert document["devices"][light.path]["subtopics"] == {"M": "brightness"}


def test_site_map_defaults_and_errors() -> None:
    specs = parse_site_map(
        {
            "subtopics": {"M": "brightness", "C": "color"},
            "devices": {
                "a/1": {"name": "Lamp", "kind": "light"},
                "a/2": {"name": "Strip", "kind": "rgbw_light", "subtopics": {"B": "brightness"}},
                "a/3": {"kind": "ozone"},
            },
        }
    )
    assert specs[0].subtopics == {"M": "brightness"}
    assert specs[0].subtopic_for("brightness") == "M"
    assert specs[1].subtopics == {"C": "color", "B": "brightness"}
    assert specs[1].subtopic_for("color") == "C"
    assert specs[2].name == "a/3"
    assert specs[2].subtopic_for("ozone") == "ozone"
    assert specs[2].capability_for("brightness") is None
    for bad, message in (
        ([], "'devices'"),
        ({"devices": {"x/1": {"kind": "toaster"}}}, "x/1: unknown kind"),
        ({"devices": {"x/2": "light"}}, "x/2: expected a mapping"),
        ({"subtopics": ["M"], "devices": {}}, "'subtopics' must be a mapping"),
    ):
        with pytest.raises(SiteMapError, match=message):
            parse_site_map(bad)


def test_parse_broker() -> None:
    assert parse_broker("10.0.0.2:1884") == ("10.0.0.2", 1884)
    assert parse_broker("mqtt.local") == ("mqtt.local", 1883)


async def test_command_line_runs_a_fleet_and_dies_with_last_wills(
    broker: Broker, observer: Observer, tmp_path: Path
) -> None:
    site_map = tmp_path / "site.yaml"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devkit.simulator",
            "--broker",
            f"{broker.host}:{broker.port}",
            "--base",
            "home",
            "--generate",
            "6",
            "--write-site-map",
            str(site_map),
            "--announce",
            "--seed",
            "5",
            "--flood",
            "100",
            "--flood-duration",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert line.decode().strip() == "READY 6 devices"
        await observer.wait_for(lambda m: sum(1 for x in m if x.topic.endswith("/announce")) == 6)
        announced = {x.topic.rsplit("/", 1)[0] for x in observer.messages if "announce" in x.topic}
        specs = load_site_map(site_map)
        assert announced == {f"home/{s.path}" for s in specs}
        # A crash: no DISCONNECT, so the broker publishes every device's will.
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        await observer.wait_for(
            lambda m: (
                sum(1 for x in m if x.topic.endswith("availability") and x.text == "offline") == 6
            )
        )
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


async def test_command_line_clean_exit_and_site_map_file(
    broker: Broker, observer: Observer, tmp_path: Path
) -> None:
    site_map = tmp_path / "site.json"
    site_map.write_text(json.dumps({"devices": {"x/1": {"name": "Lamp", "kind": "light"}}}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devkit.simulator",
            "--broker",
            f"{broker.host}:{broker.port}",
            "--site-map",
            str(site_map),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert line.decode().strip() == "READY 1 devices"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
        await observer.wait_for(
            lambda m: (
                [x.text for x in m if x.topic == "inspextor/x/1/availability"][-1:] == ["offline"]
            )
        )
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_generated_site_map_and_announcements_satisfy_the_integration(tmp_path: Path) -> None:
    """The integration's own parser accepts what the simulator writes and announces."""
    from custom_components.inspextor.sitemap import parse_announcement, parse_site_map as parse_ha
    from devkit.simulator import SimDevice

    specs = generate_fleet(30, seed=11)
    for name in ("site.yaml", "site.json"):
        dump_site_map(specs, tmp_path / name)
        site = parse_ha((tmp_path / name).read_text())
        assert set(site.devices) == {s.path for s in specs}
        for spec in specs:
            parsed = site.devices[spec.path]
            assert (parsed.name, parsed.kind, parsed.area) == (spec.name, spec.kind, spec.area)
            for capability in KIND_CAPABILITIES[spec.kind]:
                assert parsed.subtopic_for(capability) == spec.subtopic_for(capability)
    for spec in specs:
        device = SimDevice(spec, "inspextor", SimConfig(), random.Random(1), "x")
        announced = parse_announcement(spec.path, json.loads(device.announcement()))
        assert (announced.kind, announced.area) == (spec.kind, spec.area)
