"""The dev cloud's SQLite database: contracts, applied sync records, commands and results.

All methods are blocking; `AsyncStore` runs them on one dedicated thread so the asyncio
loop never waits on SQLite and the single connection is used serially. Records from homes
are data: they are stored with parameters, never executed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import hashlib
import hmac
import json
from pathlib import Path
import secrets
import sqlite3
import time
from typing import Any

from cloud_bridge.protocol.packing import merge_structure_chunks
from devkit.devcloud import rule_store

type JSONDict = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contracts (
    contract_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    password_salt BLOB NOT NULL,
    password_hash BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'expired', 'none')),
    expires TEXT,
    activated REAL,
    deregistered REAL,
    last_ping REAL
);
CREATE TABLE IF NOT EXISTS activation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, contract_id TEXT, action TEXT, req TEXT, attempt INTEGER,
    status TEXT NOT NULL, reason TEXT
);
CREATE TABLE IF NOT EXISTS applied (
    instance_id TEXT NOT NULL, lane TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (instance_id, lane, seq)
);
CREATE TABLE IF NOT EXISTS entity_state (
    contract_id TEXT NOT NULL, entity_id TEXT NOT NULL, state TEXT, attributes TEXT NOT NULL,
    ts REAL NOT NULL, lane TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (contract_id, entity_id)
);
CREATE TABLE IF NOT EXISTS sensor_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contract_id TEXT NOT NULL, entity_id TEXT NOT NULL, state TEXT, attributes TEXT NOT NULL,
    ts REAL NOT NULL, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS structure (
    contract_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts REAL NOT NULL,
    areas TEXT NOT NULL, devices TEXT NOT NULL, entities TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS structure_chunks (
    contract_id TEXT NOT NULL, seq INTEGER NOT NULL, chunk INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (contract_id, seq, chunk)
);
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY, contract_id TEXT NOT NULL, service TEXT NOT NULL,
    entity_id TEXT NOT NULL, data TEXT NOT NULL, origin TEXT NOT NULL,
    iat REAL NOT NULL, ttl REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS command_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, state TEXT, ts REAL,
    received REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS command_results_by_command ON command_results (command_id);
"""

FINAL_STATUSES = frozenset({"succeeded", "failed", "rejected", "expired", "duplicate"})
_PBKDF2_ROUNDS = 60_000


def hash_password(password: str, salt: bytes) -> bytes:
    """PBKDF2-SHA256 of an instance password."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)


@dataclass(frozen=True, slots=True)
class Contract:
    """A contract as the dev cloud keeps it (no password, only its hash)."""

    contract_id: str
    instance_id: str
    state: str
    expires: str | None
    activated: float | None
    deregistered: float | None
    last_ping: float | None

    def as_json(self) -> JSONDict:
        """For the HTTP API."""
        return {
            "contract_id": self.contract_id,
            "instance_id": self.instance_id,
            "subscription": {"state": self.state, "expires": self.expires},
            "activated": self.activated is not None and self.deregistered is None,
            "last_ping": self.last_ping,
        }


class Store:
    """Blocking access to the database (use through AsyncStore)."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._db.executescript(rule_store.SCHEMA)
        self._verified: dict[tuple[str, str], bytes] = {}

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- contracts ---------------------------------------------------------------------

    def upsert_contract(
        self,
        contract_id: str,
        instance_id: str,
        password: str,
        state: str,
        expires: str | None,
    ) -> None:
        """Create or replace a contract (the password is stored as a salted hash)."""
        salt = secrets.token_bytes(16)
        self._db.execute(
            "INSERT INTO contracts (contract_id, instance_id, password_salt, password_hash,"
            " state, expires) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (contract_id) DO UPDATE"
            " SET instance_id = excluded.instance_id, password_salt = excluded.password_salt,"
            " password_hash = excluded.password_hash, state = excluded.state,"
            " expires = excluded.expires",
            (contract_id, instance_id, salt, hash_password(password, salt), state, expires),
        )
        self._verified = {k: v for k, v in self._verified.items() if k[0] != contract_id}

    def contract(self, contract_id: str) -> Contract | None:
        """One contract, or None."""
        row = self._db.execute(
            "SELECT * FROM contracts WHERE contract_id = ?", (contract_id,)
        ).fetchone()
        return _contract(row) if row else None

    def contracts(self) -> list[Contract]:
        """Every contract."""
        rows = self._db.execute("SELECT * FROM contracts ORDER BY contract_id").fetchall()
        return [_contract(row) for row in rows]

    def check_instance(self, contract_id: str, instance_id: str, password: str) -> bool:
        """True when instance id and password match the contract (constant-time compare)."""
        row = self._db.execute(
            "SELECT instance_id, password_salt, password_hash FROM contracts WHERE contract_id = ?",
            (contract_id,),
        ).fetchone()
        if row is None or row["instance_id"] != instance_id:
            return False
        key = (contract_id, instance_id)
        digest = hashlib.sha256(password.encode()).digest()
        if self._verified.get(key) == digest:
            return True
        ok = hmac.compare_digest(
            hash_password(password, row["password_salt"]), row["password_hash"]
        )
        if ok:
            # Sync packets carry the password every time: remember it was right.
            self._verified[key] = digest
        return ok

    def set_activated(self, contract_id: str, activated: bool) -> None:
        """Record an activation or a deregistration."""
        column = "activated" if activated else "deregistered"
        other = "deregistered" if activated else "activated"
        self._db.execute(
            f"UPDATE contracts SET {column} = ?, {other} = NULL WHERE contract_id = ?",  # noqa: S608 - fixed names
            (time.time(), contract_id),
        )

    def set_last_ping(self, contract_id: str) -> None:
        """When the home last pinged."""
        self._db.execute(
            "UPDATE contracts SET last_ping = ? WHERE contract_id = ?", (time.time(), contract_id)
        )

    def log_activation(
        self,
        contract_id: str,
        *,
        action: str,
        req: str,
        attempt: int,
        status: str,
        reason: str | None,
    ) -> None:
        """Keep every activation/deregistration attempt and its outcome."""
        self._db.execute(
            "INSERT INTO activation_log (ts, contract_id, action, req, attempt, status, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (time.time(), contract_id, action, req, attempt, status, reason),
        )

    def activation_log(self, contract_id: str) -> list[JSONDict]:
        """The attempts of a contract, oldest first."""
        rows = self._db.execute(
            "SELECT ts, action, req, attempt, status, reason FROM activation_log"
            " WHERE contract_id = ? ORDER BY id",
            (contract_id,),
        ).fetchall()
        return [dict(row) for row in rows]

    # -- sync --------------------------------------------------------------------------

    def apply_records(
        self, contract_id: str, instance_id: str, records: list[JSONDict]
    ) -> list[JSONDict]:
        """Apply records idempotently by (instance, lane, seq); return those applied now."""
        applied: list[JSONDict] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for record in records:
                if self._apply_one(contract_id, instance_id, record):
                    applied.append(record)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return applied

    def _seen(self, instance_id: str, lane: str, seq: int) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM applied WHERE instance_id = ? AND lane = ? AND seq = ?",
                (instance_id, lane, seq),
            ).fetchone()
            is not None
        )

    def _apply_one(self, contract_id: str, instance_id: str, record: JSONDict) -> bool:
        lane, seq, ts = str(record["lane"]), int(record["seq"]), float(record["ts"])
        if self._seen(instance_id, lane, seq):
            return False
        if lane == "structure" and record.get("kind") == "rules":
            rule_store.apply_rules_record(self._db, contract_id, record)
        elif lane == "structure":
            snapshot = self._complete_snapshot(contract_id, record)
            if snapshot is None:
                return False  # more chunks to come
            current = self._db.execute(
                "SELECT seq FROM structure WHERE contract_id = ?", (contract_id,)
            ).fetchone()
            if current is None or current["seq"] < seq:
                self._db.execute(
                    "INSERT OR REPLACE INTO structure VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        contract_id,
                        seq,
                        ts,
                        json.dumps(snapshot["areas"]),
                        json.dumps(snapshot["devices"]),
                        json.dumps(snapshot["entities"]),
                    ),
                )
        else:
            self._apply_state(contract_id, lane, seq, ts, record)
        self._db.execute(
            "INSERT INTO applied VALUES (?, ?, ?, ?)", (instance_id, lane, seq, time.time())
        )
        return True

    def _complete_snapshot(self, contract_id: str, record: JSONDict) -> JSONDict | None:
        if "chunks" not in record:
            return record
        self._db.execute(
            "INSERT OR REPLACE INTO structure_chunks VALUES (?, ?, ?, ?)",
            (contract_id, record["seq"], record["chunk"], json.dumps(record)),
        )
        rows = self._db.execute(
            "SELECT record FROM structure_chunks WHERE contract_id = ? AND seq = ?",
            (contract_id, record["seq"]),
        ).fetchall()
        merged = merge_structure_chunks([json.loads(row["record"]) for row in rows])
        if merged is not None:
            self._db.execute(
                "DELETE FROM structure_chunks WHERE contract_id = ? AND seq = ?",
                (contract_id, record["seq"]),
            )
        return merged

    def _apply_state(self, contract_id: str, lane: str, seq: int, ts: float, rec: JSONDict) -> None:
        entity_id, state = str(rec["entity_id"]), rec.get("state")
        attributes = json.dumps(rec.get("attributes") or {})
        if lane == "low":
            self._db.execute(
                "INSERT INTO sensor_history (contract_id, entity_id, state, attributes, ts, seq)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (contract_id, entity_id, state, attributes, ts, seq),
            )
        current = self._db.execute(
            "SELECT lane, seq, ts FROM entity_state WHERE contract_id = ? AND entity_id = ?",
            (contract_id, entity_id),
        ).fetchone()
        if current is not None:
            newer = seq > current["seq"] if current["lane"] == lane else ts >= current["ts"]
            if not newer:
                return  # an older record arriving late never overwrites a newer state
        if state is None:
            self._db.execute(
                "DELETE FROM entity_state WHERE contract_id = ? AND entity_id = ?",
                (contract_id, entity_id),
            )
            return
        self._db.execute(
            "INSERT OR REPLACE INTO entity_state VALUES (?, ?, ?, ?, ?, ?, ?)",
            (contract_id, entity_id, state, attributes, ts, lane, seq),
        )

    def entities(self, contract_id: str) -> JSONDict:
        """The home's entities with their cloud-side state, joined with the structure."""
        structure = self._db.execute(
            "SELECT * FROM structure WHERE contract_id = ?", (contract_id,)
        ).fetchone()
        areas: list[JSONDict] = json.loads(structure["areas"]) if structure else []
        devices: list[JSONDict] = json.loads(structure["devices"]) if structure else []
        registry: list[JSONDict] = json.loads(structure["entities"]) if structure else []
        rows = self._db.execute(
            "SELECT entity_id, state, attributes, ts FROM entity_state WHERE contract_id = ?",
            (contract_id,),
        ).fetchall()
        states = {row["entity_id"]: row for row in rows}
        return {
            "contract_id": contract_id,
            "structure_seq": structure["seq"] if structure else None,
            "areas": areas,
            "entities": describe_entities(areas, devices, registry, states),
        }

    def rules(self, contract_id: str) -> JSONDict:
        """The home's cloud rules as last synced, with the last refusal of each."""
        return rule_store.rules_of(self._db, contract_id)

    def history(self, contract_id: str, entity_id: str, limit: int = 100) -> list[JSONDict]:
        """Sensor readings of one entity, newest first."""
        rows = self._db.execute(
            "SELECT state, attributes, ts, seq FROM sensor_history"
            " WHERE contract_id = ? AND entity_id = ? ORDER BY ts DESC, seq DESC LIMIT ?",
            (contract_id, entity_id, limit),
        ).fetchall()
        return [{**dict(row), "attributes": json.loads(row["attributes"])} for row in rows]

    # -- commands ----------------------------------------------------------------------

    def add_command(self, packet: JSONDict) -> None:
        """Remember a command sent to a home."""
        self._db.execute(
            "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                packet["id"],
                packet["cid"],
                packet["service"],
                packet["target"]["entity_id"],
                json.dumps(packet["data"]),
                packet["origin"],
                packet["iat"],
                packet["ttl"],
            ),
        )

    def add_result(self, result: JSONDict) -> bool:
        """Keep a result of a known command; False when the command is unknown."""
        known = self._db.execute("SELECT * FROM commands WHERE id = ?", (result["id"],)).fetchone()
        if known is None:
            return False
        state = result.get("state")
        cursor = self._db.execute(
            "INSERT INTO command_results (command_id, status, reason, state, ts, received)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                result["id"],
                result["status"],
                result.get("reason"),
                json.dumps(state) if state is not None else None,
                result.get("ts"),
                time.time(),
            ),
        )
        rule_store.keep_extra(self._db, cursor.lastrowid, result)
        rule_store.note_refusal(self._db, known, result)
        return True

    def command(self, command_id: str) -> JSONDict | None:
        """A command with every result received for it, in arrival order."""
        row = self._db.execute("SELECT * FROM commands WHERE id = ?", (command_id,)).fetchone()
        if row is None:
            return None
        results = [
            {
                "status": r["status"],
                "reason": r["reason"],
                "state": json.loads(r["state"]) if r["state"] else None,
                "ts": r["ts"],
                "received": r["received"],
                **rule_store.extra_of(self._db, r["id"]),
            }
            for r in self._db.execute(
                "SELECT * FROM command_results WHERE command_id = ? ORDER BY id", (command_id,)
            ).fetchall()
        ]
        return {
            "id": row["id"],
            "contract_id": row["contract_id"],
            "service": row["service"],
            "entity_id": row["entity_id"],
            "data": json.loads(row["data"]),
            "origin": row["origin"],
            "iat": row["iat"],
            "ttl": row["ttl"],
            "results": results,
            "final": any(r["status"] in FINAL_STATUSES for r in results),
        }


def describe_entities(
    areas: list[JSONDict],
    devices: list[JSONDict],
    registry: list[JSONDict],
    states: dict[str, Any],
) -> list[JSONDict]:
    """Entities with name, area and state; entities with a state but no registry entry too."""
    area_names = {
        str(a.get("area_id") or a.get("id")): str(a.get("name") or a.get("area_id") or "")
        for a in areas
    }
    device_area = {str(d.get("id") or d.get("device_id")): d.get("area_id") for d in devices}
    out: list[JSONDict] = []
    seen: set[str] = set()
    for entry in registry:
        entity_id = entry.get("entity_id")
        if not isinstance(entity_id, str) or entity_id in seen:
            continue
        seen.add(entity_id)
        area_id = entry.get("area_id") or device_area.get(str(entry.get("device_id")))
        out.append(_entity(entity_id, entry, area_names.get(str(area_id)), states.get(entity_id)))
    for entity_id, row in states.items():
        if entity_id not in seen:
            out.append(_entity(entity_id, {}, None, row))
    return sorted(out, key=lambda e: (e["area"] or "~", e["entity_id"]))


def _entity(entity_id: str, entry: JSONDict, area: str | None, row: Any) -> JSONDict:
    attributes: JSONDict = json.loads(row["attributes"]) if row is not None else {}
    name = entry.get("name") or entry.get("original_name") or attributes.get("friendly_name")
    return {
        "entity_id": entity_id,
        "domain": entity_id.split(".", 1)[0],
        "name": name or entity_id,
        "area": area,
        "state": row["state"] if row is not None else None,
        "attributes": attributes,
        "ts": row["ts"] if row is not None else None,
    }


def _contract(row: sqlite3.Row) -> Contract:
    return Contract(
        contract_id=row["contract_id"],
        instance_id=row["instance_id"],
        state=row["state"],
        expires=row["expires"],
        activated=row["activated"],
        deregistered=row["deregistered"],
        last_ping=row["last_ping"],
    )


class AsyncStore:
    """Runs Store methods on one dedicated thread."""

    def __init__(self, path: Path | str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="devcloud-db")
        self._store: Store | None = None

    async def open(self) -> None:
        """Open (and create) the database."""
        self._store = await self._run_raw(Store, self._path)

    async def close(self) -> None:
        """Close the database and its thread."""
        if self._store is not None:
            await self.run(Store.close)
        self._executor.shutdown(wait=False)

    async def _run_raw[T](self, func: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, func, *args)

    async def run[T](self, method: Callable[..., T], *args: Any) -> T:
        """Call `method(store, *args)` on the database thread."""
        assert self._store is not None, "AsyncStore.open() first"
        return await self._run_raw(method, self._store, *args)
