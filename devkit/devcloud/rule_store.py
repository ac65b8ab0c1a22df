"""The dev cloud's copy of each home's cloud rules, and what rule results carried.

The bridge sends the rules it owns as a structure-lane `rules` record (the cloud
replaces its list); a rule command's results carry the saved rule, the list, or the
findings that refused it (`extra`). The last refusal of each rule is kept so the page
can show why the home said no.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

type JSONDict = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS cloud_rules (
    contract_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts REAL NOT NULL, rules TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS result_extras (
    result_id INTEGER PRIMARY KEY, extra TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_refusals (
    contract_id TEXT NOT NULL, rule_id TEXT NOT NULL, reason TEXT NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (contract_id, rule_id)
);
"""
EXTRA_KEYS = ("rule", "rules", "findings")
RULE_SERVICE = "rule."  # rule commands are kept as commands with service "rule.<op>"


def apply_rules_record(db: sqlite3.Connection, contract_id: str, record: JSONDict) -> None:
    """Replace the home's rules with a newer `rules` record (an older one is ignored)."""
    current = db.execute(
        "SELECT seq FROM cloud_rules WHERE contract_id = ?", (contract_id,)
    ).fetchone()
    if current is None or current[0] < record["seq"]:
        db.execute(
            "INSERT OR REPLACE INTO cloud_rules VALUES (?, ?, ?, ?)",
            (contract_id, record["seq"], record["ts"], json.dumps(record["rules"])),
        )


def keep_extra(db: sqlite3.Connection, result_id: int | None, result: JSONDict) -> None:
    """Keep what a rule result carried beside its status."""
    extra = {key: result[key] for key in EXTRA_KEYS if key in result}
    if extra and result_id is not None:
        db.execute("INSERT INTO result_extras VALUES (?, ?)", (result_id, json.dumps(extra)))


def note_refusal(db: sqlite3.Connection, command: sqlite3.Row, result: JSONDict) -> None:
    """Remember the reason a rule command was refused, by rule (cleared by a success)."""
    if not str(command["service"]).startswith(RULE_SERVICE) or not command["entity_id"]:
        return
    key = (command["contract_id"], command["entity_id"])
    if result["status"] in {"rejected", "failed", "expired"}:
        db.execute(
            "INSERT OR REPLACE INTO rule_refusals VALUES (?, ?, ?, ?)",
            (*key, result.get("reason") or result["status"], result.get("ts") or 0.0),
        )
    elif result["status"] == "succeeded":
        db.execute("DELETE FROM rule_refusals WHERE contract_id = ? AND rule_id = ?", key)


def extra_of(db: sqlite3.Connection, result_id: int) -> JSONDict:
    """What a result carried beside its status ({} for a plain command)."""
    row = db.execute("SELECT extra FROM result_extras WHERE result_id = ?", (result_id,)).fetchone()
    return dict(json.loads(row[0])) if row else {}


def rules_of(db: sqlite3.Connection, contract_id: str) -> JSONDict:
    """The home's cloud rules as last synced, and the last refusal of each rule id."""
    row = db.execute(
        "SELECT seq, ts, rules FROM cloud_rules WHERE contract_id = ?", (contract_id,)
    ).fetchone()
    refusals = {
        r[0]: {"reason": r[1], "ts": r[2]}
        for r in db.execute(
            "SELECT rule_id, reason, ts FROM rule_refusals WHERE contract_id = ?", (contract_id,)
        ).fetchall()
    }
    return {
        "rules": json.loads(row[2]) if row else [],
        "synced_seq": row[0] if row else None,
        "synced_ts": row[1] if row else None,
        "refusals": refusals,
    }
