"""The SQLite schema and connection settings.

WAL with synchronous=NORMAL: a commit survives the bridge process being killed (SIGKILL,
OOM, add-on restart), because the WAL is in the OS page cache; only a power cut can roll
back the last commits, never corrupt the file. NORMAL avoids an fsync per commit, which
matters on the SD cards and eMMC most Home Assistant hosts run on (latency and wear), and
what a power cut can lose is recovered: the bridge resyncs all current states on start.
The one exception is a command id, which must never be forgotten once its command ran:
`Store.remember_command` commits it with synchronous=FULL.

secure_delete is off (Debian's SQLite turns it on): with it every deleted page is zeroed
through the WAL, so deleting sent rows needs as much free disk as they take, and a full
disk could never be drained. The outbox holds entity states, not secrets. The WAL is
checkpointed every WAL_CHECKPOINT_PAGES and cut back to JOURNAL_SIZE_LIMIT after each
checkpoint, so it stays near 1 MB: the store's reserve (2 MB) is always enough to let a
checkpoint finish on a full disk.
"""

from __future__ import annotations

import sqlite3

WAL_CHECKPOINT_PAGES = 256  # 1 MB of 4 KB pages (SQLite's default is 1000)
JOURNAL_SIZE_LIMIT = 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lane TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entity_id TEXT NOT NULL DEFAULT '',
    record TEXT NOT NULL,
    created REAL NOT NULL
);
-- structure and high keep only the latest row per entity (the snapshot has entity '')
CREATE UNIQUE INDEX IF NOT EXISTS outbox_latest ON outbox (lane, entity_id)
    WHERE lane IN ('structure', 'high');
CREATE INDEX IF NOT EXISTS outbox_lane_seq ON outbox (lane, seq);
CREATE TABLE IF NOT EXISTS seq (lane TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS commands (id TEXT PRIMARY KEY, expires REAL NOT NULL, seen REAL);
CREATE INDEX IF NOT EXISTS commands_expires ON commands (expires);
CREATE TABLE IF NOT EXISTS activation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    req TEXT NOT NULL,
    action TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exposure (entity_id TEXT PRIMARY KEY);
"""


def connect(path: str) -> sqlite3.Connection:
    """Open (creating) the database with WAL and the schema; used on the storage thread."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA secure_delete=OFF")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
    except sqlite3.Error:
        conn.close()
        raise
    return conn
