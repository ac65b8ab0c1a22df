"""Keeps the cloud's copy of the home current: resyncs, registry refreshes, exposure.

Reads Home Assistant's registry and states through the scoped intake into the sync
engine, remembers which entities the cloud was sent (so those that leave the scope are
sent as removed, across restarts too), and debounces the refreshes that a state of a
never-seen entity asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from typing import Any

from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.ha.base import HAError, HomeAssistantAPI, JSONDict
from cloud_bridge.scoped_intake import ScopedIntake
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.sync import SyncEngine
from cloud_bridge.tasks import cancel_and_wait

SCOPE_KEY = "synced_scope"  # kv: the entity ids the cloud was last sent
SCOPE_REFRESH_DELAY = 1.0  # debounce of registry refreshes for unseen entities


class ScopeSync:
    """The scope of the cloud's copy and the reads of HA that fill it."""

    def __init__(
        self,
        ha: HomeAssistantAPI,
        store: Store,
        sync: SyncEngine,
        errors: ErrorState,
        *,
        refresh_delay: float = SCOPE_REFRESH_DELAY,
    ) -> None:
        self.ha = ha
        self.store = store
        self.sync = sync
        self.errors = errors
        self.refresh_delay = refresh_delay
        self.intake = ScopedIntake(sync, self._schedule_refresh)
        self._saved_scope: frozenset[str] = frozenset()
        self._refresh: asyncio.Task[Any] | None = None
        self._lock = asyncio.Lock()
        self._cloud_online = False
        self._offline_resync_queued = False
        self.resyncs = 0
        self.scope_refreshes = 0

    async def load(self) -> None:
        """Restore the allow-list and what the cloud was last sent."""
        try:
            self.intake.exposed = frozenset(await self.store.exposure())
            self._saved_scope = frozenset(await self.store.get(SCOPE_KEY, []))
            self.intake.previously_synced = self._saved_scope
        except StorageError as err:
            self.errors.report(Part.STORAGE, err.code, str(err))

    async def stop(self) -> None:
        """Cancel a pending refresh."""
        await cancel_and_wait(self._refresh)

    def cloud_online(self, online: bool) -> bool:
        """The cloud came up (True: a full resync is owed) or went down (False)."""
        self._cloud_online = online
        if not online:
            self._offline_resync_queued = False
            return False
        if self._lock.locked() or self._offline_resync_queued:
            # a full resync made since the last disconnect is queued or under way already
            self._offline_resync_queued = False
            return False
        return True

    def check_ha(self) -> None:
        """File Home Assistant's connection error, if it has one, under the HA part."""
        error = self.ha.last_error
        if error is not None:
            self.errors.report(Part.HA, f"ha_{error.code}", f"Home Assistant: {error}")

    def _schedule_refresh(self) -> None:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._refresh_later(), name="scope-refresh")

    async def _refresh_later(self) -> None:
        await asyncio.sleep(self.refresh_delay)
        await self.refresh()

    async def resync(self) -> dict[str, Any]:
        """Queue a structure snapshot and every in-scope state (unconditional)."""
        return await self._sync_from_ha(full=True)

    async def resync_on_connect(
        self, keep: Callable[[JSONDict], bool] | None = None
    ) -> list[JSONDict] | None:
        """Home Assistant (re)connected: everything in scope is sent again. Returns the
        states `keep` selects from the same read (None when it failed), so a part that
        needs a few of them does not parse a large home's states a second time."""
        kept: list[JSONDict] | None = None

        def take(states: list[JSONDict]) -> None:
            nonlocal kept
            kept = [state for state in states if keep is not None and keep(state)]

        await self._sync_from_ha(full=True, on_states=take if keep is not None else None)
        return kept

    async def refresh(self) -> dict[str, Any]:
        """Reread the registry; send the structure if it changed and states new to the scope."""
        return await self._sync_from_ha(full=False)

    async def _sync_from_ha(
        self, *, full: bool, on_states: Callable[[list[JSONDict]], None] | None = None
    ) -> dict[str, Any]:
        async with self._lock:
            if not self.ha.connected:
                self.check_ha()
                return {"ok": False, "reason": "Home Assistant is not connected"}
            queued = await self._read_ha(full=full, on_states=on_states)
            self.sync.memory.soon()
            if isinstance(queued, HAError):
                self.errors.report(Part.HA, f"ha_{queued.code}", f"Home Assistant: {queued}")
                return {"ok": False, "reason": str(queued)}
            self.errors.clear(Part.HA)
            await self._write()
            if not full:
                self.scope_refreshes += 1
            else:
                self.sync.expedite()  # a resync's states go at once, not after the windows
                self.resyncs += 1
                if not self._cloud_online:
                    self._offline_resync_queued = True
            return {"ok": True, "entities": queued}

    async def _read_ha(
        self, *, full: bool, on_states: Callable[[list[JSONDict]], None] | None
    ) -> int | HAError:
        """The registry, then the states, each applied as soon as it is read and written
        out before the next read: a large home's registry and its states, each tens of
        megabytes once parsed, are never held at the same time."""
        try:
            registry = await self.ha.get_registry()
        except HAError as err:
            return err
        self.intake.apply_registry(registry, full=full)
        del registry
        await self._write()
        try:
            states = await self.ha.get_states()
        except HAError as err:
            self.intake.states_unread()
            return err
        if on_states is not None:
            on_states(states)
        return self.intake.apply_states(states, full=full)

    async def _write(self) -> None:
        """What the intake queued into the outbox, and the scope the cloud now has."""
        try:
            await self.sync.flush()
            await self._save_scope()
        except StorageError as err:
            self.errors.report(Part.STORAGE, err.code, str(err))

    async def set_exposure(self, entities: list[str]) -> list[str]:
        """Replace the allow-list; the sync scope follows it at once."""
        stored = await self.store.set_exposure(entities)
        self.intake.exposed = frozenset(stored)
        if not (await self.refresh())["ok"]:
            self.intake.rescope()  # HA is away: its next connect resyncs the states
            with contextlib.suppress(StorageError):
                await self.sync.flush()
                await self._save_scope()
        return stored

    async def _save_scope(self) -> None:
        """Remember which entities the cloud has (after their removals are in the outbox)."""
        synced = self.intake.scope.synced
        if synced != self._saved_scope:
            await self.store.set(SCOPE_KEY, sorted(synced))
            self._saved_scope = synced
