"""HA state changes through the sync scope into the sync engine; keeps the scope current.

Only in-scope changes reach the sync engine (and so the outbox); a change of an entity the
bridge has never seen asks for a (debounced) registry refresh, since it may be a newly
announced InspeXtor device.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from cloud_bridge.ha.base import RegistrySnapshot
from cloud_bridge.scope import SyncScope, Verdict, build_scope, scoped_structure
from cloud_bridge.sync import SyncEngine

_LOGGER = logging.getLogger(__name__)

type Structure = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


class ScopedIntake:
    """The bridge's filter between HA and the sync engine."""

    def __init__(self, sync: SyncEngine, on_unknown: Callable[[], None]) -> None:
        self.sync = sync
        self._on_unknown = on_unknown
        self.exposed: frozenset[str] = frozenset()
        # what the cloud was last sent, restored from the outbox's store at start: entities
        # that left the scope while the bridge was down are sent as removed at first apply
        self.previously_synced: frozenset[str] = frozenset()
        self.scope = SyncScope()
        self.loaded = False  # a registry was read at least once
        self.dropped = 0
        self._registry = RegistrySnapshot()
        self._seen: frozenset[str] = frozenset()
        self._last_structure: Structure | None = None

    def on_state(self, entity_id: str, state: dict[str, Any] | None) -> None:
        """A state_changed event from HA (None = the entity was removed)."""
        verdict = self.scope.verdict(entity_id)
        if verdict is Verdict.SYNC:
            self.sync.on_state(entity_id, state)
            return
        self.dropped += 1
        if verdict is Verdict.UNKNOWN and state is not None and self.loaded:
            _LOGGER.debug("a state of an entity not in the registry yet: refreshing it")
            self._on_unknown()

    def apply(self, registry: RegistrySnapshot, states: list[dict[str, Any]], *, full: bool) -> int:
        """Rebuild the scope from HA's registry and states; queue what the cloud must get.

        `full` (a resync): the snapshot and every in-scope state. Otherwise (a refresh):
        the snapshot only when it changed, and the states of entities new to the scope.
        Entities that left the scope are sent as removed, so the cloud forgets them.
        Returns the number of states queued.
        """
        self._registry = registry
        self._seen = frozenset(
            s["entity_id"] for s in states if isinstance(s.get("entity_id"), str)
        )
        old = self.scope if self.loaded else SyncScope(synced=self.previously_synced)
        self.loaded = True
        self._rescope(always_snapshot=full)
        queued = 0
        for state in states:
            entity_id = state.get("entity_id")
            if not isinstance(entity_id, str) or entity_id not in self.scope.synced:
                continue
            if full or entity_id not in old.synced:
                self.sync.on_state(entity_id, state)
                queued += 1
        for entity_id in sorted(old.synced - self.scope.synced):
            self.sync.on_state(entity_id, None)
        return queued

    def rescope(self) -> None:
        """Apply `exposed` to the registry read last (when HA cannot be asked now)."""
        if not self.loaded:
            return
        old = self.scope
        self._rescope(always_snapshot=False)
        for entity_id in sorted(old.synced - self.scope.synced):
            self.sync.on_state(entity_id, None)

    def _rescope(self, *, always_snapshot: bool) -> None:
        self.scope = build_scope(self._registry.entities, self.exposed, self._seen)
        structure = scoped_structure(
            self.scope, self._registry.areas, self._registry.devices, self._registry.entities
        )
        if always_snapshot or structure != self._last_structure:
            self.sync.queue_snapshot(*structure)
            self._last_structure = structure
