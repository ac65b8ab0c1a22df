"""The integration's kinds agree with the simulator's and with docs/protocol.md.

The two tables stay independent on purpose: the simulator plays third-party devices and
must not import the integration. This test is what keeps them in step: it fails when a
kind, a capability or a command one side accepts is missing or different on the other.
"""

from __future__ import annotations

import json
from pathlib import Path
import random
import re
from typing import Any

from custom_components.inspextor.payload import valid_command
from custom_components.inspextor.sitemap import KIND_CAPABILITIES, Kind
from devkit.simulator import SimConfig, SimDevice, SimDeviceSpec
from devkit.simulator.site_file import KIND_CAPABILITIES as SIM_KIND_CAPABILITIES

PROTOCOL = Path(__file__).parents[3] / "docs" / "protocol.md"

# Values a user or a buggy caller may send to each capability: valid and invalid ones.
SAMPLES: dict[str, list[Any]] = {
    "brightness": [0, 128, 255, 256, -1, "on", True],
    "color": [[1, 2, 3, 4], [1, 2, 3], [1, 2, 3, 300], "red"],
    "position": [0, 40, 100, 101, "open"],
    "motion": ["stop", "opening", True, False],
    "illuminance": [300, True],
    "temperature": [21.5],
    "humidity": [45],
    "ozone": [40],
}


class RecordingDevice(SimDevice):
    """A simulated device without a broker: its statuses are recorded."""

    def __init__(self, spec: SimDeviceSpec) -> None:
        super().__init__(spec, "inspextor", SimConfig(shade_travel_time=0), random.Random(1), "t")
        self.confirmed: list[str] = []

    def publish_status(self, capability: str, value: Any, cid: str | None = None) -> None:
        if cid is not None:
            self.confirmed.append(cid)


def _documented() -> dict[str, tuple[str, ...]]:
    """The "Kinds and capabilities" table of docs/protocol.md: kind -> capabilities."""
    section = PROTOCOL.read_text().split("### Kinds and capabilities", 1)[1].split("###", 1)[0]
    table: dict[str, tuple[str, ...]] = {}
    for row in re.findall(r"^\| `(\w+)` \| (.+?) \|", section, re.MULTILINE):
        table[row[0]] = tuple(re.findall(r"`([a-z_]+)`", row[1]))
    return table


def test_same_kinds_and_capabilities() -> None:
    """Integration, simulator and protocol document list the same kinds and capabilities."""
    ours = {kind.value: caps for kind, caps in KIND_CAPABILITIES.items()}
    assert ours == SIM_KIND_CAPABILITIES
    assert ours == _documented()


async def test_simulator_confirms_exactly_the_commands_the_integration_sends() -> None:
    """For every kind, capability and sample value: the device confirms iff HA would send it.

    A command HA sends that the simulator refuses would fail in every demo; one the
    simulator accepts that HA refuses means the two disagree on what is commandable.
    """
    disagreements = []
    for kind in Kind:
        for capability in KIND_CAPABILITIES[kind]:
            for value in SAMPLES[capability]:
                device = RecordingDevice(SimDeviceSpec("x/1", "X", kind.value))
                payload = json.dumps({"value": value, "cid": "c1"}).encode()
                device._on_message(f"inspextor/x/1/{capability}/command", payload)
                for task in list(device._tasks):
                    await task
                device.kill()
                if bool(device.confirmed) != valid_command(kind, capability, value):
                    disagreements.append((kind.value, capability, value, device.confirmed))
    assert disagreements == []
