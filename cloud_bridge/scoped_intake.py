"""HA state changes through the sync scope into the sync engine; keeps the scope current.

Only in-scope changes reach the sync engine (and so the outbox); a change of an entity the
bridge has never seen asks for a (debounced) registry refresh, since it may be a newly
announced InspeXtor device.

Between reads the intake keeps HA's registry only as compressed JSON (a rescope while HA
is away reads it back) and the scoped structure only as a digest: parsed, a 10,000-entity
registry takes about 20 MB the bridge has no use for until the next read.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import logging
from typing import Any
import zlib

from cloud_bridge.ha.base import RegistrySnapshot
from cloud_bridge.protocol import fastjson
from cloud_bridge.scope import SyncScope, Verdict, build_scope, scoped_structure
from cloud_bridge.sync import SyncEngine

_LOGGER = logging.getLogger(__name__)

type Structure = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def pack_registry(registry: RegistrySnapshot) -> bytes:
    """The registry as compressed JSON (about a tenth of its JSON, a hundredth of its
    parsed size)."""
    data = fastjson.dumps_bytes([registry.areas, registry.devices, registry.entities])
    return zlib.compress(data, 1)


def unpack_registry(blob: bytes) -> RegistrySnapshot:
    """The registry `pack_registry` packed."""
    if not blob:
        return RegistrySnapshot()
    areas, devices, entities = fastjson.loads(zlib.decompress(blob))
    return RegistrySnapshot(areas=areas, devices=devices, entities=entities)


def structure_digest(structure: Structure) -> bytes:
    """Equal for equal structures (as HA lists them), to tell whether one changed."""
    return hashlib.sha256(fastjson.dumps_bytes(structure)).digest()


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
        self._registry = b""  # pack_registry() of the registry read last
        self._registered = SyncScope()  # the scope without the ids seen in states
        self._seen: frozenset[str] = frozenset()
        self._structure_digest: bytes | None = None
        # entities new to the scope whose states the next apply_states owes the cloud
        self._entering: frozenset[str] = frozenset()
        # a registry was applied and its states are being read: a state of an entity
        # without a registry entry asks for no refresh, the states read makes it known
        self._reading_states = False

    def on_state(self, entity_id: str, state: dict[str, Any] | None) -> None:
        """A state_changed event from HA (None = the entity was removed)."""
        verdict = self.scope.verdict(entity_id)
        if verdict is Verdict.SYNC:
            self.sync.on_state(entity_id, state)
            return
        self.dropped += 1
        if (
            verdict is Verdict.UNKNOWN
            and state is not None
            and self.loaded
            and not self._reading_states
        ):
            _LOGGER.debug("a state of an entity not in the registry yet: refreshing it")
            self._on_unknown()

    def apply(self, registry: RegistrySnapshot, states: list[dict[str, Any]], *, full: bool) -> int:
        """`apply_registry` then `apply_states`; returns the number of states queued."""
        self.apply_registry(registry, full=full)
        return self.apply_states(states, full=full)

    def apply_registry(self, registry: RegistrySnapshot, *, full: bool) -> None:
        """Rebuild the scope from HA's registry; queue the snapshot (`full`, a resync:
        always; a refresh: when it changed) and a removal for every entity that left the
        scope, so the cloud forgets it. The registry is kept only compressed."""
        old = self.scope if self.loaded else SyncScope(synced=self.previously_synced)
        self.loaded = True
        self._registry = pack_registry(registry)
        self._rescope(registry, always_snapshot=full)
        entered = self.scope.synced - old.synced
        self._entering = (self._entering | entered) & self.scope.synced
        self._send_removals(old)
        self._reading_states = True

    def states_unread(self) -> None:
        """The states read after `apply_registry` failed: the next apply sends the states
        of the entities that entered the scope now."""
        self._reading_states = False

    def apply_states(self, states: list[dict[str, Any]], *, full: bool) -> int:
        """Queue the states the cloud must get: `full`, every in-scope state; otherwise
        the states of entities new to the scope. Returns the number queued."""
        self._seen = frozenset(
            s["entity_id"] for s in states if isinstance(s.get("entity_id"), str)
        )
        self.scope = SyncScope(self._registered.synced, self._registered.known | self._seen)
        queued = 0
        for state in states:
            entity_id = state.get("entity_id")
            if not isinstance(entity_id, str) or entity_id not in self.scope.synced:
                continue
            if full or entity_id in self._entering:
                self.sync.on_state(entity_id, state)
                queued += 1
        self._entering = frozenset()
        self._reading_states = False
        return queued

    def rescope(self) -> None:
        """Apply `exposed` to the registry read last (when HA cannot be asked now)."""
        if not self.loaded:
            return
        old = self.scope
        self._rescope(unpack_registry(self._registry), always_snapshot=False)
        self._send_removals(old)

    def _send_removals(self, old: SyncScope) -> None:
        for entity_id in sorted(old.synced - self.scope.synced):
            self.sync.on_state(entity_id, None)

    def _rescope(self, registry: RegistrySnapshot, *, always_snapshot: bool) -> None:
        self._registered = build_scope(registry.entities, self.exposed)
        self.scope = SyncScope(self._registered.synced, self._registered.known | self._seen)
        structure = scoped_structure(
            self.scope, registry.areas, registry.devices, registry.entities
        )
        digest = structure_digest(structure)
        if always_snapshot or digest != self._structure_digest:
            self.sync.queue_snapshot(*structure)
            self._structure_digest = digest
