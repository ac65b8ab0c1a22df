"""The demo's things_sync site: one controller on 127.0.0.2 beside the MQTT devices."""

from __future__ import annotations

from typing import Any

import yaml

THINGS_TITLE = "Demo things_sync"
CONTROLLER = "pi-garden"


def demo_things_site(controller_port: int, ha_port: int) -> str:
    """The site file both Home Assistant and the simulated controller read."""
    document: dict[str, Any] = {
        "name": "demo",
        "home_assistant": {"host": "127.0.0.1", "port": ha_port},
        "ttl": 30,
        "controllers": {
            CONTROLLER: {"host": "127.0.0.2", "port": controller_port, "roles": ["irr", "cmd_do"]}
        },
        "things": {
            "garden_lights": {"owner": CONTROLLER, "type": "bool", "direction": "output",
                              "area": "Garden"},
            "pond_pump": {"owner": CONTROLLER, "type": "int", "direction": "output",
                          "min": 0, "max": 100, "unit": "%", "area": "Garden"},
            "gate": {"owner": CONTROLLER, "type": "bool", "direction": "input",
                     "device_class": "opening", "area": "Garden"},
            "soil_moisture": {"owner": CONTROLLER, "type": "float", "direction": "input",
                              "unit": "%", "device_class": "moisture", "area": "Garden"},
            "irrigation": {"owner": CONTROLLER, "type": "str", "direction": "input",
                           "area": "Garden"},
            "gate_bell": {"owner": CONTROLLER, "type": "bool", "direction": "pulse",
                          "area": "Garden"},
        },
    }  # fmt: skip
    return yaml.safe_dump(document, sort_keys=False)
