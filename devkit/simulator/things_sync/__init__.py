"""Simulated things_sync controllers (docs/protocol.md, contract 3).

An implementation of the contract of its own, sharing no code with the integration, so
each side tests the other. `python -m devkit.simulator.things_sync --help` runs the
controllers of a site file; `SimController` and `start_controllers` are the API tests and
benchmarks use.
"""

from .controller import SimController, SimThing
from .sitefile import ControllerSpec, load_controllers, parse_controllers

__all__ = ["ControllerSpec", "SimController", "SimThing", "load_controllers", "parse_controllers"]
