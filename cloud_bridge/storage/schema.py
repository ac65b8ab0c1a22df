"""The SQLite schema and connection settings.

WAL with synchronous=NORMAL: a commit survives the bridge process being killed (SIGKILL,
OOM, add-on restart), because the WAL is in the OS page cache; only a power cut can roll
back the last commits, never corrupt the file. NORMAL avoids an fsync per commit, which
matters on the SD cards and eMMC most Home Assistant hosts run on (latency and wear), and
what a power cut can lose is recovered: the bridge resyncs all current states on start.
"""

from __future__ import annotations

import sqlite3

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
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(SCHEMA)
    except sqlite3.Error:
        conn.close()
        raise
    return conn
