"""The simulated things_sync controllers on their own: CLI, wire, de-duplication, demo site."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import random
import signal
import socket
import sys

from devkit.devstack.demo_things import CONTROLLER, demo_things_site
from devkit.lossy_link import Faults, open_link
from devkit.simulator.things_sync import (
    SimController,
    load_controllers,
    parse_controllers,
    wire as simwire,
)
from devkit.simulator.things_sync.__main__ import build_parser, change_random_input
from tests.helpers.polling import wait_for


def _free_udp(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class Ha(asyncio.DatagramProtocol):
    """A bare socket playing Home Assistant."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.extend(json.loads(data))


async def _ha(port: int) -> tuple[asyncio.DatagramTransport, Ha]:
    loop = asyncio.get_running_loop()
    transport, ha = await loop.create_datagram_endpoint(Ha, local_addr=("127.0.0.1", port))
    return transport, ha


async def test_cli_runs_the_demo_controller_and_answers(tmp_path: Path) -> None:
    ha_port, port = _free_udp("127.0.0.1"), _free_udp("127.0.0.2")
    site = tmp_path / "site.yaml"
    site.write_text(demo_things_site(port, ha_port))
    transport, ha = await _ha(ha_port)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devkit.simulator.things_sync", "--site", str(site),
        "--inputs", "0.1", "--seed", "3", env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        ask = simwire.encode([{"type": "io", "cmd": "ask", "io": "gate", "val": None}], None)[0]

        def answered() -> bool:
            transport.sendto(ask, ("127.0.0.2", port))
            return any(m.get("cmd") == "reply" and m.get("io") == "gate" for m in ha.received)

        await wait_for(answered, 20, "the controller's reply")
        await wait_for(lambda: any(m.get("cmd") == "set" for m in ha.received), 20, "inputs")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        transport.close()
    assert [s.name for s in load_controllers(site)] == [CONTROLLER]
    assert build_parser().parse_args(["--site", "x", "--only", "a"]).only == ["a"]


async def test_controller_refuses_strangers_repeats_answers_and_signs() -> None:
    ha_port = _free_udp("127.0.0.1")
    text = demo_things_site(0, ha_port).replace("ttl: 30", "ttl: 30\nkey: shared-secret")
    spec = parse_controllers(text)[0]
    controller = SimController(spec, seed=1)
    await controller.start()
    transport, ha = await _ha(ha_port)
    try:

        def send(messages: list[dict[str, object]], key: str | None = "shared-secret") -> None:
            for data in simwire.encode(messages, key):
                transport.sendto(data, controller.address)

        send([{"type": "io", "cmd": "pulse", "io": "gate_bell", "val": 1, "mid": "b:1"}])
        send([{"type": "io", "cmd": "pulse", "io": "gate_bell", "val": 1, "mid": "b:1"}])
        send([{"type": "cmd", "role": "irr", "cmd": "abort", "mid": "b:2"}] * 2)
        send([{"type": "cmd", "role": "light", "cmd": "home", "mid": "b:3"}])
        send([{"type": "cum"}, {"type": "cum", "fld": "gate"}, {"type": "clim"}, {"type": "x"}])
        send([{"type": "io", "cmd": "set", "io": "garden_lights", "val": 1, "mid": "b:5"}])
        send([{"type": "io", "cmd": "set", "io": "garden_lights", "val": 0, "mid": "b:4"}])
        send([{"type": "io", "cmd": "ask", "io": "nothing"}], key="wrong key")
        transport.sendto(b"not json", controller.address)
        await wait_for(lambda: controller.stats.unreadable >= 2, 5, "refusals")
        await wait_for(lambda: len(ha.received) >= 12, 5, "answers")
        assert controller.things["gate_bell"].pulses == 1
        assert controller.stats.commands == {"irr.abort": 1}
        assert controller.things["garden_lights"].value is True  # b:4 came late: stale
        assert controller.climate == {"reloaded": True}
        assert all(m.get("type") == "sig" for m in ha.received[-1:])  # every datagram signed
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind(("127.0.0.9", 0))
        stranger.sendto(b"[]", controller.address)
        stranger.close()
        await wait_for(lambda: controller.stats.refused == 1, 5, "the stranger refused")
    finally:
        transport.close()
        await controller.stop()


async def test_reports_repeat_until_acknowledged_through_a_lossy_link() -> None:
    ha_port = _free_udp("127.0.0.1")
    spec = parse_controllers(demo_things_site(0, ha_port))[0]
    controller = SimController(spec, seed=2)
    await controller.start()
    link = await open_link(("127.0.0.1", 0), ("127.0.0.1", ha_port), controller.address,
                           Faults(loss=0.5, delay=0.01), seed=5)  # fmt: skip
    controller.spec.ha = link.address
    transport, ha = await _ha(ha_port)
    try:
        controller.report("gate", True)
        await wait_for(lambda: any(m.get("io") == "gate" for m in ha.received), 10, "a report")
        assert "gate" in controller._reports  # not acknowledged yet
        for data in simwire.encode([{"type": "io", "cmd": "reply", "io": "gate", "val": 1}], None):
            transport.sendto(data, link.address)
        await wait_for(lambda: "gate" not in controller._reports, 10, "the acknowledgement")
        controller.silent = True
        controller.datagram_received(b"[]", ("127.0.0.1", ha_port))
        await controller.restart()
        assert controller.things["gate"].value is True  # values survive a restart
    finally:
        link.close()
        transport.close()
        await controller.stop()


def test_random_inputs_change_every_kind() -> None:
    spec = parse_controllers(demo_things_site(1, 2))[0]
    controller = SimController(spec)
    rng = random.Random(4)
    for _ in range(40):
        change_random_input([controller], rng)
    changed = {t.name for t in controller.things.values() if t.changes}
    assert changed == {"gate", "soil_moisture", "irrigation"}
    change_random_input([], rng)
    assert simwire.later("a:1", None)
    assert simwire.later("a:2", "b:9")
    assert not simwire.later("a:1", "a:2")
    assert simwire.later("a:0", f"a:{2**32 - 1}")  # across the wrap
    assert simwire.decode(b"[1]", "k") is None
    assert simwire.decode(b'[{"type":"sig","ts":1,"mac":"x"}]', "k") is None
