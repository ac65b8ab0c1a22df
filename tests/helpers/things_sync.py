"""A things_sync site on loopback: simulated controllers, optional lossy links, HA's side.

Controllers listen on 127.0.0.2, 127.0.0.3, … at ports the system picks; the site file
Home Assistant reads is written after they are bound, so no test uses a fixed port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from devkit.lossy_link import Faults, LossyLink, open_link
from devkit.simulator.things_sync import ControllerSpec, SimController
from devkit.simulator.things_sync.sitefile import ThingSpec

# The thing types of a controller made by `layout`: (name suffix, type, direction, extra).
MIXED: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("light", "bool", "output", {}),
    ("dimmer", "int", "output", {"min": 0, "max": 100, "unit": "%"}),
    ("door", "bool", "input", {"device_class": "door"}),
    ("temp", "float", "input", {"unit": "°C", "device_class": "temperature"}),
    ("mode", "str", "input", {}),
    ("bell", "bool", "pulse", {}),
)


@dataclass
class ControllerLayout:
    """A controller to simulate and the things it owns (name, type, direction, extra)."""

    name: str
    roles: list[str]
    things: list[tuple[str, str, str, dict[str, Any]]]


def layout(
    controllers: int, kinds: int = 1, prefix: str = "pi", per: int | None = None
) -> list[ControllerLayout]:
    """`controllers` controllers, each with `kinds` of every MIXED thing type.

    With `per`, exactly that many things each (MIXED repeated, then cut).
    """
    if per is not None:
        kinds = -(-per // len(MIXED))
    out = []
    for c in range(controllers):
        things = [
            (f"{prefix}{c}_{suffix}{k}", kind, direction, extra)
            for k in range(kinds)
            for suffix, kind, direction, extra in MIXED
        ][:per]
        out.append(ControllerLayout(f"{prefix}{c}", ["light", "cmd_do"], things))
    return out


def site_text(
    controllers: list[ControllerLayout],
    addresses: list[tuple[str, int]],
    *,
    ttl: float | str = 30,
    key: str | None = None,
    ha_port: int = 5005,
) -> str:
    """The site file Home Assistant reads: controllers at `addresses`."""
    document: dict[str, Any] = {
        "name": "test site",
        "home_assistant": {"host": "127.0.0.1", "port": ha_port},
        "ttl": ttl,
        "controllers": {
            c.name: {"host": host, "port": port, "roles": c.roles}
            for c, (host, port) in zip(controllers, addresses, strict=True)
        },
        "things": {
            name: {"owner": c.name, "type": kind, "direction": direction, **extra}
            for c in controllers
            for name, kind, direction, extra in c.things
        },
    }
    if key:
        document["key"] = key
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@dataclass
class SimSite:
    """The simulated side of a site: controllers and, when lossy, one link each."""

    controllers: list[SimController]
    links: list[LossyLink] = field(default_factory=list)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where HA must send: the links when there are, else the controllers."""
        if self.links:
            return [link.address for link in self.links]
        return [c.address for c in self.controllers]

    def connect(self, ha: tuple[str, int]) -> None:
        """Tell every controller (through its link) where Home Assistant is."""
        for index, controller in enumerate(self.controllers):
            if self.links:
                self.links[index].ha = ha
                controller.spec.ha = self.links[index].address
            else:
                controller.spec.ha = ha

    async def stop(self) -> None:
        """Everything closed."""
        for link in self.links:
            link.close()
        for controller in self.controllers:
            await controller.stop()

    def by_name(self, name: str) -> SimController:
        """One controller."""
        return next(c for c in self.controllers if c.spec.name == name)


async def start_sim_site(
    controllers: list[ControllerLayout],
    *,
    faults: Faults | None = None,
    key: str | None = None,
    seed: int = 1,
) -> SimSite:
    """Bind every controller (and link); call `connect` once HA's socket is bound."""
    sims = []
    for index, c in enumerate(controllers):
        things = [ThingSpec(name, kind, direction) for name, kind, direction, _ in c.things]
        spec = ControllerSpec(
            c.name, f"127.0.0.{2 + index}", 0, ("127.0.0.1", 0), c.roles, things, key
        )
        sim = SimController(spec, seed=seed + index)
        await sim.start()
        sims.append(sim)
    site = SimSite(sims)
    if faults is not None:
        for index, sim in enumerate(sims):
            link = await open_link(
                ("127.0.0.1", 0), ("127.0.0.1", 0), sim.address, faults, seed=seed * 100 + index
            )
            site.links.append(link)
    return site
