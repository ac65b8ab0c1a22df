"""Simulated InspeXtor devices on a local MQTT broker (docs/protocol.md Contract 2).

`python -m devkit.simulator --help` runs a fleet; `Fleet` is the importable API
tests and benchmarks use.
"""

from .device import SimConfig, SimDevice
from .fleet import Fleet
from .site_file import (
    SimDeviceSpec,
    dump_site_map,
    generate_fleet,
    load_site_map,
    parse_site_map,
    site_map_document,
)

__all__ = [
    "Fleet",
    "SimConfig",
    "SimDevice",
    "SimDeviceSpec",
    "dump_site_map",
    "generate_fleet",
    "load_site_map",
    "parse_site_map",
    "site_map_document",
]
