"""Execution records of command files, in the bridge's SQLite (as AWS IoT Jobs keep them).

A file version (the SHA-256 of its bytes) gets one run: `received` with every command
`pending`, in one transaction, before anything runs. Each command is marked `in_progress`
(committed with synchronous=FULL) before it runs and `ok`/`error` after. A bridge killed
mid-file resumes after the last finished command; a command found `in_progress` on start
may have run, so it is closed as `interrupted` and never run again. A version with a run
is never run again, whatever its state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import sqlite3
import time

from cloud_bridge.storage import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS store_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    version TEXT NOT NULL,
    state TEXT NOT NULL,
    general_status TEXT NOT NULL DEFAULT '',
    general_error TEXT NOT NULL DEFAULT '',
    uploaded INTEGER NOT NULL DEFAULT 0,
    received REAL NOT NULL,
    updated REAL NOT NULL,
    expires REAL NOT NULL DEFAULT 0,
    UNIQUE (key, version)
);
CREATE TABLE IF NOT EXISTS store_steps (
    run INTEGER NOT NULL REFERENCES store_runs (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run, idx)
);
"""
INTERRUPTED = "interrupted: the bridge stopped while this command ran; it is not run again"
KEEP_RUNS_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a run."""

    idx: int
    command: str
    status: str  # pending, in_progress, ok, error
    result: str


@dataclass(frozen=True, slots=True)
class Run:
    """The execution record of one file version."""

    id: int
    key: str
    version: str
    state: str  # in_progress, done
    general_status: str
    general_error: str
    uploaded: bool
    received: float
    updated: float
    expires: float = 0.0  # no command of the file starts after this (0: never set)


_RUN_COLUMNS = (
    "id, key, version, state, general_status, general_error, uploaded, received, updated, expires"
)


def _run(row: Sequence[object]) -> Run:
    return Run(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        str(row[5]),
        bool(row[6]),
        float(str(row[7])),
        float(str(row[8])),
        float(str(row[9])),
    )


class Ledger:
    """The store channel's tables in the bridge's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def open(self) -> None:
        """Create the tables; close the steps a killed bridge left in progress."""

        def _open(conn: sqlite3.Connection) -> None:
            conn.executescript(SCHEMA)
            conn.execute(
                "UPDATE store_steps SET status = 'error', result = ? WHERE status = 'in_progress'",
                (INTERRUPTED,),
            )

        await self.store.run_sql(_open)

    async def find(self, key: str, version: str) -> Run | None:
        """The run of that file version, if it has one."""

        def _find(conn: sqlite3.Connection) -> Run | None:
            row = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM store_runs WHERE key = ? AND version = ?",  # noqa: S608
                (key, version),
            ).fetchone()
            return _run(row) if row else None

        return await self.store.run_sql(_find)

    async def unfinished(self) -> list[Run]:
        """Runs not done, or done but whose result is not uploaded yet, oldest first."""

        def _list(conn: sqlite3.Connection) -> list[Run]:
            cur = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM store_runs "  # noqa: S608
                "WHERE state != 'done' OR uploaded = 0 ORDER BY id"
            )
            return [_run(row) for row in cur]

        return await self.store.run_sql(_list)

    async def create(
        self,
        key: str,
        version: str,
        commands: Sequence[str],
        *,
        refused: tuple[str, str] | None = None,
        expires: float = 0.0,
    ) -> Run:
        """Record a received file version with its commands, in one transaction.

        `refused` (general_status, general_error) records a file that will not run.
        """
        now = time.time()
        state, status, error = ("done", *refused) if refused else ("in_progress", "", "")

        def _create(conn: sqlite3.Connection) -> Run:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "INSERT INTO store_runs (key, version, state, general_status, general_error,"
                " received, updated, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, version, state, status, error, now, now, expires),
            )
            run_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO store_steps (run, idx, command, status) VALUES (?, ?, ?, 'pending')",
                [(run_id, idx, text) for idx, text in enumerate(commands)],
            )
            conn.execute("COMMIT")
            return Run(run_id, key, version, state, status, error, False, now, now, expires)

        return await self.store.run_sql(_create)

    async def steps(self, run_id: int) -> list[Step]:
        """The commands of a run, in file order."""

        def _steps(conn: sqlite3.Connection) -> list[Step]:
            cur = conn.execute(
                "SELECT idx, command, status, result FROM store_steps WHERE run = ? ORDER BY idx",
                (run_id,),
            )
            return [Step(int(i), str(c), str(s), str(r)) for i, c, s, r in cur]

        return await self.store.run_sql(_steps)

    async def start_step(self, run_id: int, idx: int) -> None:
        """Mark a command in progress, durably (even across a power cut), before it runs."""

        def _start(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA synchronous=FULL")
            try:
                conn.execute(
                    "UPDATE store_steps SET status = 'in_progress' WHERE run = ? AND idx = ?",
                    (run_id, idx),
                )
            finally:
                conn.execute("PRAGMA synchronous=NORMAL")

        await self.store.run_sql(_start)

    async def finish_step(self, run_id: int, idx: int, status: str, result: str) -> None:
        """Record a command's outcome."""
        await self.store.run_sql(
            lambda conn: conn.execute(
                "UPDATE store_steps SET status = ?, result = ? WHERE run = ? AND idx = ?",
                (status, result, run_id, idx),
            )
        )

    async def finish(self, run_id: int, general_status: str, general_error: str) -> None:
        """Mark the run done."""
        now = time.time()
        await self.store.run_sql(
            lambda conn: conn.execute(
                "UPDATE store_runs SET state = 'done', general_status = ?, general_error = ?,"
                " updated = ? WHERE id = ?",
                (general_status, general_error, now, run_id),
            )
        )

    async def mark_uploaded(self, run_id: int) -> None:
        """The result file of the run is in the status store."""
        await self.store.run_sql(
            lambda conn: conn.execute("UPDATE store_runs SET uploaded = 1 WHERE id = ?", (run_id,))
        )

    async def purge(self, now: float, keep: float = KEEP_RUNS_SECONDS) -> int:
        """Forget finished, uploaded runs older than `keep`, but never a key's newest run
        (so its version is never run again)."""

        def _purge(conn: sqlite3.Connection) -> int:
            conn.execute(
                "DELETE FROM store_steps WHERE run IN (SELECT id FROM store_runs WHERE "
                "state = 'done' AND uploaded = 1 AND updated < ? AND id NOT IN "
                "(SELECT MAX(id) FROM store_runs GROUP BY key))",
                (now - keep,),
            )
            return int(
                conn.execute(
                    "DELETE FROM store_runs WHERE state = 'done' AND uploaded = 1 AND updated < ?"
                    " AND id NOT IN (SELECT MAX(id) FROM store_runs GROUP BY key)",
                    (now - keep,),
                ).rowcount
            )

        return await self.store.run_sql(_purge)
