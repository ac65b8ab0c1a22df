"""The sync engine: HA state changes -> durable outbox -> batched sync packets by lane.

A change is written to the outbox at once (one transaction per loop tick), so a killed
bridge loses nothing it has seen; a lane's batch leaves the outbox only after every part
of it was acknowledged (PUBACK). High-lane rows are coalesced per entity by the outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import logging
from typing import Any

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.memory import MemoryReleaser
from cloud_bridge.protocol.packing import PackContext, pack
from cloud_bridge.protocol.records import (
    Lane,
    Record,
    lane_for,
    rules_record,
    state_record,
    structure_record,
)
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.ratelimit import Priority
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)

LANE_PRIORITY = {
    Lane.STRUCTURE: Priority.STRUCTURE,
    Lane.HIGH: Priority.HIGH,
    Lane.LOW: Priority.LOW,
}
BATCH_LIMIT = {Lane.STRUCTURE: 1, Lane.HIGH: 2000, Lane.LOW: 2000}

type SendFunc = Callable[[str, bytes, Priority], Awaitable[None]]
type ErrorFunc = Callable[[str, str], None]
RULES_KEY = "rules"  # the outbox key of the rules record (entity ids always have a dot)
LOW_WRITE_CHUNK = 1000  # readings per outbox transaction (the watermark bounds its bytes)
FLUSH_RETRY_FIRST = 1.0  # seconds before retrying an outbox write that failed; doubles
FLUSH_RETRY_MAX = 30.0


class SyncEngine:
    """Owns the outbox writer and one publishing task per lane."""

    def __init__(
        self,
        store: Store,
        topics: Topics,
        context: PackContext,
        send: SendFunc,
        *,
        high_window: float = 0.5,
        low_window: float = 30.0,
        on_error: ErrorFunc | None = None,
        on_recovered: Callable[[], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.store = store
        self._clock = clock
        self.topics = topics
        self.context = context
        self._send = send
        self.windows = {Lane.STRUCTURE: 0.0, Lane.HIGH: high_window, Lane.LOW: low_window}
        self._on_error = on_error or (lambda code, reason: None)
        self._on_recovered = on_recovered or (lambda: None)
        self._storage_failing = False
        self._stopping = False
        self._room_freed = asyncio.Event()  # a drain deleted sent rows: retry a write now
        self._high: dict[str, Record] = {}
        self._low: list[tuple[str, Record]] = []
        self._structure: Record | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._dirty = {lane: asyncio.Event() for lane in Lane}
        self._hurry = {lane: asyncio.Event() for lane in Lane}  # skip the next window
        self._online = asyncio.Event()
        # After each reconnect every lane owes one drain; a lane starts draining only when
        # no higher lane owes one or is draining, so the backlog goes structure, high, low.
        self._owed: set[Lane] = set()
        self._draining: set[Lane] = set()
        self._turns = asyncio.Event()  # set whenever a lane's turn ends
        self._tasks: list[asyncio.Task[None]] = []
        self.sent_batches = {lane: 0 for lane in Lane}
        # replaces a structure record too large for MQTT by a reference (the store channel)
        self.offload: Callable[[Record], Awaitable[Record]] | None = None
        self.dropped_low = 0  # oldest readings dropped in memory while the outbox failed
        # after the large transient jobs (a structure snapshot packed, a home read)
        self.memory = MemoryReleaser()

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the lane publishers (they wait until the cloud is online)."""
        for lane in Lane:
            self._tasks.append(asyncio.create_task(self._lane_loop(lane), name=f"sync-{lane}"))
            self._dirty[lane].set()  # whatever survived a restart in the outbox goes first

    async def stop(self) -> None:
        """Write what is pending to the outbox and stop publishing."""
        self._stopping = True
        self._room_freed.set()  # wake a retrying writer: it ends after its current try
        if self._flush_task is not None:
            await self._flush_task
        with contextlib.suppress(StorageError):
            await self.flush()
        await cancel_and_wait(*self._tasks)
        self._tasks.clear()
        await self.memory.stop()

    def set_online(self, online: bool) -> None:
        """The cloud connection came up (publish everything queued) or went down."""
        if online:
            self._owed = set(Lane)
            self._online.set()
            self.expedite()
        else:
            self._online.clear()

    def expedite(self) -> None:
        """Publish what every lane holds now without waiting for its window: a resync's or
        a reconnect's backlog. Waiting would not make those publishes fuller, only late
        (a 1,000-entity home's first sync took the whole 30 s low window); the rate
        limiter still paces them."""
        for lane in Lane:
            self._hurry[lane].set()
            self._dirty[lane].set()

    # --- intake ---------------------------------------------------------------------

    def on_state(self, entity_id: str, state: dict[str, Any] | None) -> None:
        """A state_changed event from HA (None = the entity was removed)."""
        lane = lane_for(entity_id)
        if lane is None:
            return
        record = self._state_record(lane, entity_id, state)
        if lane is Lane.HIGH:
            self._high[entity_id] = record
        else:
            self._low.append((entity_id, record))
        self._schedule_flush()

    def _state_record(self, lane: Lane, entity_id: str, state: dict[str, Any] | None) -> Record:
        attributes = state.get("attributes") if state else None
        return state_record(
            lane,
            seq=0,
            ts=round(self._clock(), 3),
            entity_id=entity_id,
            state=str(state.get("state")) if state else None,
            attributes=attributes if isinstance(attributes, dict) else {},
        )

    def queue_snapshot(
        self, areas: list[dict[str, Any]], devices: list[dict[str, Any]], entities: list[Any]
    ) -> None:
        """Queue a structure snapshot (replacing any unsent one)."""
        self._structure = structure_record(0, round(self._clock(), 3), areas, devices, entities)
        self._schedule_flush()

    async def queue_rules(self, rules: list[dict[str, Any]]) -> None:
        """Write the cloud rules to the structure lane now (a `rules` record, kept apart
        from the snapshot: the newest of each is sent)."""
        record = rules_record(0, round(self._clock(), 3), rules)
        await self.store.enqueue(Lane.STRUCTURE, [(RULES_KEY, record)])
        self._dirty[Lane.STRUCTURE].set()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush_soon(), name="outbox-writer")

    @property
    def pending(self) -> bool:
        """Records are held in memory, not yet in the outbox."""
        return self._structure is not None or bool(self._high) or bool(self._low)

    async def _flush_soon(self) -> None:
        """Write what is pending; while the outbox fails (a full disk), keep retrying with
        backoff, and at once when a drain has deleted sent rows, until it is written."""
        delay = FLUSH_RETRY_FIRST
        while True:
            try:
                await self.flush()
            except StorageError as err:
                self._on_error(err.code, str(err))
                self._storage_failing = True
                if self._stopping:
                    _LOGGER.warning("cannot write the outbox: %s", err)
                    return
                _LOGGER.warning("cannot write the outbox (retrying in %.0fs): %s", delay, err)
            else:
                self._storage_recovered()
                return
            self._room_freed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room_freed.wait(), delay)
            delay = min(delay * 2, FLUSH_RETRY_MAX)

    def _storage_recovered(self) -> None:
        if self._storage_failing:
            self._storage_failing = False
            _LOGGER.info("the outbox can be written again")
            self._on_recovered()

    async def flush(self) -> None:
        """Write every pending record to the outbox: one transaction for structure, one
        for high, and low in chunks, so no transaction needs more WAL than a nearly full
        disk can hold; a failed write keeps only what was not written in memory."""
        while self.pending:
            structure, self._structure = self._structure, None
            high, self._high = self._high, {}
            low, self._low = self._low, []
            try:
                if structure is not None:
                    await self.store.enqueue(Lane.STRUCTURE, [("", structure)])
                    structure = None
                    self._dirty[Lane.STRUCTURE].set()
                if high:
                    await self.store.enqueue(Lane.HIGH, list(high.items()))
                    high = {}
                    self._dirty[Lane.HIGH].set()
                while low:  # a nearly full disk may take only part of a chunk
                    written = await self.store.enqueue(Lane.LOW, low[:LOW_WRITE_CHUNK])
                    del low[: len(written)]
                    self._dirty[Lane.LOW].set()
            except StorageError:
                # keep the unwritten records in memory, newest wins; the caller reports it
                if structure is not None and self._structure is None:
                    self._structure = structure
                self._high = {**high, **self._high}
                self._low = low + self._low
                overflow = len(self._low) - self.store.low_capacity
                if overflow > 0:  # the disk stays full: memory is bounded like the outbox
                    del self._low[:overflow]
                    self.dropped_low += overflow
                raise

    # --- publishing -------------------------------------------------------------------

    async def _lane_loop(self, lane: Lane) -> None:
        dirty = self._dirty[lane]
        while True:
            await dirty.wait()
            await self._online.wait()
            hurried = await self._window(lane)
            dirty.clear()
            await self._take_turn(lane)
            pause = 0.0
            try:
                await self.drain(lane)
                if hurried:  # a resync's or a reconnect's backlog: large batches packed
                    self.memory.soon()
            except TransportError as err:
                _LOGGER.info("%s sync paused: %s", lane, err)
                dirty.set()
                pause = 1.0 if self._online.is_set() else 0.0
            except StorageError as err:
                _LOGGER.warning("cannot use the outbox: %s", err)
                self._on_error(err.code, str(err))
                self._storage_failing = True
                dirty.set()
                pause = 5.0
            finally:
                self._end_turn(lane)
            if pause:
                await asyncio.sleep(pause)

    async def _window(self, lane: Lane) -> bool:
        """The batching window, cut short by `expedite` (then True)."""
        hurry = self._hurry[lane]
        if self.windows[lane] and not hurry.is_set() and not self._full_batch_queued(lane):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hurry.wait(), self.windows[lane])
        hurried = hurry.is_set()
        hurry.clear()
        return hurried

    def _full_batch_queued(self, lane: Lane) -> bool:
        """A backlog of at least a full batch gains nothing by waiting for the window: its
        publishes are full already (a reconnect's backlog, a flood beyond a batch a
        window). Known without a query for the low lane only."""
        return lane is Lane.LOW and self.store.low_queued >= BATCH_LIMIT[lane]

    async def _take_turn(self, lane: Lane) -> None:
        """Wait until no higher-priority lane owes a drain or is draining."""
        higher = list(Lane)[: list(Lane).index(lane)]
        while any(h in self._owed or h in self._draining for h in higher):
            self._turns.clear()
            await self._turns.wait()
        self._draining.add(lane)

    def _end_turn(self, lane: Lane) -> None:
        self._draining.discard(lane)
        self._owed.discard(lane)
        self._turns.set()

    async def drain(self, lane: Lane) -> int:
        """Publish what the lane held when its window closed; returns the records sent.

        Records queued meanwhile wait for the next window: under a steady flood a drain
        that chased them would publish many small batches back to back.
        """
        sent = 0
        loop = asyncio.get_running_loop()
        ceiling = await self.store.last_seq(lane)
        while True:
            rows = await self.store.fetch(lane, BATCH_LIMIT[lane], max_seq=ceiling)
            if not rows:
                return sent
            records = [row.record for row in rows]
            if lane is Lane.STRUCTURE and self.offload is not None:
                records = [await self.offload(record) for record in records]
            packets = await loop.run_in_executor(
                None, pack, self.context, lane, records, self._clock()
            )
            topic = self.topics.sync_topic(lane)
            for packet in packets:
                await self._send(topic, packet, LANE_PRIORITY[lane])
            await self.store.remove(lane, rows)
            self._room_freed.set()
            if not self.pending:
                self._storage_recovered()
            self.sent_batches[lane] += 1
            sent += len(rows)
            if lane is Lane.STRUCTURE:
                self.memory.soon()
