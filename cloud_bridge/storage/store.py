"""The bridge's store: outbox, sequences, command ids, activation log, key/value, exposure.

Every call runs on one dedicated thread, so the asyncio loop never waits on the disk and
SQLite sees a single writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass
import json
import logging
import os
from pathlib import Path
import shutil
import sqlite3
import time
from typing import Any

from cloud_bridge.protocol import fastjson
from cloud_bridge.protocol.records import Lane, Record
from cloud_bridge.storage.schema import connect

_LOGGER = logging.getLogger(__name__)
DB_NAME = "bridge.sqlite3"
DEFAULT_LOW_CAPACITY = 100_000
# Kept beside the database and given back when the disk is full: in WAL mode even deleting
# sent rows needs room (a checkpoint may grow the database by up to the WAL's ~1 MB), so
# without it a full disk could never be drained again.
RESERVE_BYTES = 2 * 1024 * 1024
# After a release the reserve is remade only with this much free, or it would take the
# room the outbox was just given and make it fail again.
REMAKE_FREE_BYTES = 4 * RESERVE_BYTES
# Free disk the low lane never writes into (counting free pages inside the database as
# room): deletes and WAL checkpoints always have space, so a full outbox can drain. Sensor
# readings past it wait in memory; controllable states (high) and structure still go in.
LOW_WATERMARK_BYTES = 4 * 1024 * 1024


class StorageError(Exception):
    """The database could not be used; `code` says why in one word."""

    def __init__(self, message: str, code: str = "storage_error") -> None:
        super().__init__(message)
        self.code = code


def _explain(err: sqlite3.Error, where: str) -> StorageError:
    text = str(err)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return StorageError(
            f"the data folder {where} is read-only or missing: {text}", "storage_readonly"
        )
    if "full" in lowered:
        return StorageError(f"the disk holding {where} is full: {text}", "storage_full")
    return StorageError(f"database error in {where}: {text}", "storage_error")


def _apply_next(remedies: list[Callable[[], bool]]) -> bool:
    """Apply the remedies in order until one makes room; False when none is left."""
    while remedies:
        if remedies.pop(0)():
            return True
    return False


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One queued change record."""

    id: int
    seq: int
    record: Record


type PendingItem = tuple[str, Record]  # (entity_id or '' for a snapshot, record without seq)


class Store:
    """Async facade over one SQLite connection living on its own thread."""

    def __init__(self, path: Path | str, low_capacity: int = DEFAULT_LOW_CAPACITY) -> None:
        self.path = str(path)
        self.low_capacity = low_capacity
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._low_count = 0
        self._reserve = None if self.path == ":memory:" else Path(self.path + ".reserve")

    @classmethod
    def in_data_dir(cls, data_dir: Path, low_capacity: int = DEFAULT_LOW_CAPACITY) -> Store:
        """The store at `<data_dir>/bridge.sqlite3`."""
        return cls(data_dir / DB_NAME, low_capacity)

    async def _run[T](self, func: Callable[[sqlite3.Connection], T], frees: bool = False) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, func, frees)

    def _call[T](self, func: Callable[[sqlite3.Connection], T], frees: bool = False) -> T:
        """Run `func` in the database. When the disk is full, make room and try again:
        first the WAL is checkpointed and truncated (its frames become free disk); a call
        that `frees` rows may then also take the reserve (never a write that would just
        eat it)."""
        if self._conn is None:
            raise StorageError("the database is not open", "storage_closed")
        remedies = [self._truncate_wal]
        if frees:
            remedies.append(self._release_reserve_then_truncate)
        while True:
            try:
                return func(self._conn)
            except sqlite3.Error as err:
                if self._conn.in_transaction:
                    self._conn.rollback()
                if "full" not in str(err).lower() or not _apply_next(remedies):
                    raise _explain(err, self.path) from err

    def _release_reserve_then_truncate(self) -> bool:
        if not self._release_reserve():
            return False
        self._truncate_wal()  # with the reserve's room the checkpoint can finish
        return True

    def _truncate_wal(self) -> bool:
        """Copy the WAL into the database and cut it to zero bytes (False when it could
        not be, or there is no WAL)."""
        assert self._conn is not None
        try:
            busy, frames, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as err:
            _LOGGER.debug("checkpoint on a full disk failed: %s", err)
            return False
        return int(busy) == 0 and int(frames) >= 0

    def _release_reserve(self) -> bool:
        if self._reserve is None:
            return False
        try:
            self._reserve.unlink()
        except OSError:
            return False
        _LOGGER.warning(
            "the disk holding %s is full: released the %d KB kept in reserve",
            self.path,
            RESERVE_BYTES // 1024,
        )
        return True

    def _make_reserve(self, free_at_least: int = 0) -> None:
        """(Re)create the reserve file when the disk has `free_at_least` bytes free;
        quietly not when there is no room for it."""
        if self._reserve is None or self._reserve.exists():
            return
        try:
            if shutil.disk_usage(self._reserve.parent).free < free_at_least:
                return
        except OSError:
            return
        try:
            with self._reserve.open("wb") as handle:
                handle.write(bytes(RESERVE_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            with contextlib.suppress(OSError):
                self._reserve.unlink()

    async def open(self) -> None:
        """Open the database (creating the schema); raises StorageError when impossible."""

        def _open() -> None:
            try:
                self._conn = connect(self.path)
                row = self._conn.execute(
                    "SELECT COUNT(*) FROM outbox WHERE lane = 'low'"
                ).fetchone()
            except sqlite3.Error as err:
                self._conn = None
                raise _explain(err, self.path) from err
            self._low_count = int(row[0])
            self._make_reserve()

        await asyncio.get_running_loop().run_in_executor(self._executor, _open)

    async def open_in_memory(self) -> None:
        """Keep state in memory instead (the data folder cannot be used): the same Store
        object carries on, so every part holding it follows without being told."""
        self.path = ":memory:"
        self._reserve = None
        await self.open()

    async def close(self) -> None:
        """Close the database and stop the thread."""

        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, _close)
        self._executor.shutdown(wait=True)

    async def run_sql[T](self, func: Callable[[sqlite3.Connection], T]) -> T:
        """Run `func` on the store's connection and thread: for parts of the bridge that
        keep their own tables in this database (the store channel's ledger)."""
        return await self._run(func)

    # --- outbox -----------------------------------------------------------------------

    async def enqueue(self, lane: Lane, items: Sequence[PendingItem]) -> list[int]:
        """Give each record the lane's next seq and queue it, in one transaction.

        High and structure keep only the newest row per entity; low is a bounded FIFO
        that drops its oldest rows (counted in `dropped_low`) when full. On a nearly full
        disk low writes only the oldest items that fit above the watermark (the seqs say
        how many), and raises storage_full when none does.
        """
        if not items:
            return []
        now = time.time()

        def _enqueue(conn: sqlite3.Connection) -> list[int]:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT last FROM seq WHERE lane = ?", (lane.value,)).fetchone()
            last = int(row[0]) if row else 0
            seqs: list[int] = []
            rows = []
            for entity_id, record in items:
                last += 1
                seqs.append(last)
                stamped = {**record, "seq": last}
                rows.append((lane.value, last, entity_id, fastjson.dumps(stamped), now))
            if lane is Lane.LOW:
                fit = self._low_rows_that_fit(conn, [len(row[3]) for row in rows])
                del rows[fit:], seqs[fit:]
                last = seqs[-1]
                self._insert_low(conn, rows)
            else:
                conn.executemany(
                    "INSERT INTO outbox (lane, seq, entity_id, record, created) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (lane, entity_id) "
                    "WHERE lane IN ('structure', 'high') DO UPDATE SET seq = excluded.seq, "
                    "record = excluded.record, created = excluded.created",
                    rows,
                )
            conn.execute(
                "INSERT INTO seq (lane, last) VALUES (?, ?) "
                "ON CONFLICT(lane) DO UPDATE SET last = excluded.last",
                (lane.value, last),
            )
            conn.execute("COMMIT")
            if lane is Lane.LOW:
                self._low_count = min(self._low_count + len(rows), self.low_capacity)
            return seqs

        return await self._run(_enqueue)

    def _insert_low(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Append low rows; past the capacity drop the oldest and count them."""
        conn.executemany(
            "INSERT INTO outbox (lane, seq, entity_id, record, created) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        dropped = max(0, self._low_count + len(rows) - self.low_capacity)
        if dropped:
            conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
                "WHERE lane = 'low' ORDER BY id LIMIT ?)",
                (dropped,),
            )
            conn.execute(
                "INSERT INTO kv (key, value) VALUES ('dropped_low', ?) ON CONFLICT(key)"
                " DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                (str(dropped),),
            )

    def _low_rows_that_fit(self, conn: sqlite3.Connection, sizes: Sequence[int]) -> int:
        """How many of the rows (JSON sizes `sizes`, oldest first) fit above the
        watermark; each takes about twice its JSON with pages, index and WAL. Raises
        storage_full (rolled back) when none fits."""
        if self._reserve is None:  # in memory
            return len(sizes)
        try:
            free = shutil.disk_usage(Path(self.path).parent).free
        except OSError:
            return len(sizes)
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        free_pages = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        room = free - LOW_WATERMARK_BYTES + free_pages * page_size
        fit = 0
        for size in sizes:
            room -= 2 * size
            if room < 0:
                break
            fit += 1
        if fit:
            return fit
        conn.execute("ROLLBACK")
        raise StorageError(
            f"the disk holding {self.path} is nearly full ({free / 1e6:.1f} MB free): sensor "
            f"readings wait in memory, {LOW_WATERMARK_BYTES // 2**20} MB are kept for "
            "draining the outbox",
            "storage_full",
        )

    @property
    def low_queued(self) -> int:
        """Low-lane rows in the outbox (kept in memory, exact)."""
        return self._low_count

    async def fetch(self, lane: Lane, limit: int, max_seq: int | None = None) -> list[OutboxRow]:
        """The oldest `limit` queued records of a lane (up to `max_seq`), in seq order."""
        ceiling = max_seq if max_seq is not None else 2**63 - 1

        def _fetch(conn: sqlite3.Connection) -> list[OutboxRow]:
            cur = conn.execute(
                "SELECT id, seq, record FROM outbox WHERE lane = ? AND seq <= ? "
                "ORDER BY seq LIMIT ?",
                (lane.value, ceiling, limit),
            )
            return [OutboxRow(int(i), int(s), fastjson.loads(r)) for i, s, r in cur]

        return await self._run(_fetch)

    async def remove(self, lane: Lane, rows: Iterable[OutboxRow]) -> int:
        """Delete sent rows; a row replaced meanwhile (newer seq) stays queued."""
        keys = [(row.id, row.seq) for row in rows]

        def _remove(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            removed = conn.executemany("DELETE FROM outbox WHERE id = ? AND seq = ?", keys).rowcount
            conn.execute("COMMIT")
            if lane is Lane.LOW:
                self._low_count = max(0, self._low_count - removed)
            return removed

        return await self._run(_remove, frees=True)

    async def counts(self) -> dict[str, int]:
        """Queued records per lane plus `dropped_low`."""

        def _counts(conn: sqlite3.Connection) -> dict[str, int]:
            out = {lane.value: 0 for lane in Lane}
            for lane, count in conn.execute("SELECT lane, COUNT(*) FROM outbox GROUP BY lane"):
                out[str(lane)] = int(count)
            row = conn.execute("SELECT value FROM kv WHERE key = 'dropped_low'").fetchone()
            out["dropped_low"] = int(row[0]) if row else 0
            return out

        return await self._run(_counts)

    async def last_seq(self, lane: Lane) -> int:
        """The last seq given to a record of the lane (0 when none)."""

        def _last(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT last FROM seq WHERE lane = ?", (lane.value,)).fetchone()
            return int(row[0]) if row else 0

        return await self._run(_last)

    # --- commands ---------------------------------------------------------------------

    async def remember_command(self, command_id: str, expires: float) -> bool:
        """Record a command id; False when it was already seen (a duplicate)."""
        now = time.time()

        def _remember(conn: sqlite3.Connection) -> bool:
            # Durable before the command runs, even across a power cut (the outbox's
            # NORMAL could lose the last commits): else a retried command could run twice.
            # One fsync per command; commands are human-paced.
            conn.execute("PRAGMA synchronous=FULL")
            try:
                cur = conn.execute(
                    "INSERT INTO commands (id, expires, seen) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO NOTHING",
                    (command_id, expires, now),
                )
            finally:
                conn.execute("PRAGMA synchronous=NORMAL")
            return cur.rowcount == 1

        return await self._run(_remember)

    async def purge_commands(self, now: float) -> int:
        """Forget command ids whose expiry has passed (and renew the disk reserve)."""

        def _purge(conn: sqlite3.Connection) -> int:
            self._make_reserve(REMAKE_FREE_BYTES)
            return int(conn.execute("DELETE FROM commands WHERE expires < ?", (now,)).rowcount)

        return await self._run(_purge, frees=True)

    # --- activation log ---------------------------------------------------------------

    async def log_activation(
        self, req: str, action: str, attempt: int, status: str, reason: str | None
    ) -> None:
        """Append one activation/deregistration attempt (the seed's cloud log)."""
        now = time.time()
        await self._run(
            lambda conn: conn.execute(
                "INSERT INTO activation_log (req, action, attempt, status, reason, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (req, action, attempt, status, reason, now),
            )
        )

    async def activation_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest attempts, oldest first."""

        def _log(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cur = conn.execute(
                "SELECT req, action, attempt, status, reason, at FROM activation_log "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            keys = ("req", "action", "attempt", "status", "reason", "at")
            return [dict(zip(keys, row, strict=True)) for row in reversed(cur.fetchall())]

        return await self._run(_log)

    # --- key/value --------------------------------------------------------------------

    async def get(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under `key`."""

        def _get(conn: sqlite3.Connection) -> Any:
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return json.loads(row[0]) if row else default

        return await self._run(_get)

    async def set(self, key: str, value: Any) -> None:
        """Store a JSON value under `key`."""
        text = json.dumps(value)
        await self._run(
            lambda conn: conn.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, text),
            )
        )

    # --- exposure ---------------------------------------------------------------------

    async def exposure(self) -> list[str]:
        """The entities exposed to the cloud, sorted."""
        return await self._run(
            lambda conn: [
                str(r[0]) for r in conn.execute("SELECT entity_id FROM exposure ORDER BY 1")
            ]
        )

    async def set_exposure(self, entity_ids: Iterable[str]) -> list[str]:
        """Replace the allow-list."""
        ids = sorted(set(entity_ids))

        def _set(conn: sqlite3.Connection) -> list[str]:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM exposure")
            conn.executemany("INSERT INTO exposure (entity_id) VALUES (?)", [(i,) for i in ids])
            conn.execute("COMMIT")
            return ids

        return await self._run(_set)
