"""Which Home Assistant entities the cloud may see (pure, no I/O).

The cloud sees only the InspeXtor integration's own device entities (entity registry
`platform` `inspextor`, except those of the bridge's own device) and the entities the user
exposed for cloud control; the structure snapshot holds only those entities, the devices
they belong to and the areas those are in. Everything else (people, trackers, cameras,
other integrations) stays at home.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

type JSONDict = dict[str, Any]

OWN_PLATFORM = "inspextor"
# The integration's entities that describe the bridge itself (cloud connected, outbox
# depth, last ping...): they change on every status poll and mean nothing to the cloud.
BRIDGE_UNIQUE_ID_PREFIX = "bridge:"


class Verdict(StrEnum):
    """What to do with a state change."""

    SYNC = "sync"  # in scope: goes to the outbox
    DROP = "drop"  # known and out of scope: stays at home
    UNKNOWN = "unknown"  # never seen: refresh the registry, it may be a new InspeXtor entity


@dataclass(frozen=True, slots=True)
class SyncScope:
    """The entities the cloud may see, and every entity id the bridge knows of."""

    synced: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()

    def verdict(self, entity_id: str) -> Verdict:
        """SYNC, DROP or UNKNOWN for a state change of `entity_id`."""
        if entity_id in self.synced:
            return Verdict.SYNC
        if entity_id in self.known:
            return Verdict.DROP
        return Verdict.UNKNOWN


def build_scope(
    entities: Iterable[JSONDict], exposed: Iterable[str], seen: Iterable[str] = ()
) -> SyncScope:
    """The scope from the entity registry, the exposure list and entity ids seen in states.

    `seen` (the ids of HA's current states) makes entities without a registry entry known,
    so their state changes are dropped instead of triggering refresh after refresh.
    """
    exposed_ids = {e for e in exposed if isinstance(e, str)}
    registered: set[str] = set()
    own: set[str] = set()
    for entry in entities:
        entity_id = entry.get("entity_id") if isinstance(entry, dict) else None
        if not isinstance(entity_id, str):
            continue
        registered.add(entity_id)
        unique_id = entry.get("unique_id")
        if entry.get("platform") == OWN_PLATFORM and not (
            isinstance(unique_id, str) and unique_id.startswith(BRIDGE_UNIQUE_ID_PREFIX)
        ):
            own.add(entity_id)
    synced = own | exposed_ids
    known = registered | synced | {s for s in seen if isinstance(s, str)}
    return SyncScope(frozenset(synced), frozenset(known))


def scoped_structure(
    scope: SyncScope,
    areas: Iterable[JSONDict],
    devices: Iterable[JSONDict],
    entities: Iterable[JSONDict],
) -> tuple[list[JSONDict], list[JSONDict], list[JSONDict]]:
    """The registry cut to the scope: its entities, their devices, and the areas of both."""
    kept_entities = [
        e for e in entities if isinstance(e, dict) and e.get("entity_id") in scope.synced
    ]
    device_ids = {e.get("device_id") for e in kept_entities} - {None}
    kept_devices = [d for d in devices if isinstance(d, dict) and d.get("id") in device_ids]
    area_ids = {e.get("area_id") for e in kept_entities} | {d.get("area_id") for d in kept_devices}
    area_ids.discard(None)
    kept_areas = [a for a in areas if isinstance(a, dict) and a.get("area_id") in area_ids]
    return kept_areas, kept_devices, kept_entities
