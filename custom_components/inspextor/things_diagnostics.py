"""Diagnostics of a things_sync site: counters per controller, refused addresses."""

from __future__ import annotations

from typing import Any

from .const import CONF_SITE_FILE
from .things_site import ThingsConfigEntry

# The site file names hosts and holds the shared key; areas say who lives where.
THINGS_TO_REDACT = frozenset({CONF_SITE_FILE, "key", "title", "area"})


def things_diagnostics(entry: ThingsConfigEntry) -> dict[str, Any]:
    """Engine counters (errors by id per controller), values known."""
    things = entry.runtime_data
    return {
        "site": {
            "ttl": things.site.ttl,
            "signed": things.site.key is not None,
            "controllers": len(things.site.controllers),
            "things": len(things.site.things),
            "known": len(things.engine.values),
            **things.engine.diagnostics(),
        },
    }
