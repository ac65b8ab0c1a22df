"""Contract 1's nudge: an `action` packet saying a command file is waiting in the store.

`{"c": "Store", "a": "commands_waiting", "cid": "<ContractId>", "key": "<service>/commands.json"}`
on `inx/<ContractId>/action`. It carries no command: the bridge only polls at once.
"""

from __future__ import annotations

import json

NUDGE_C = "Store"
NUDGE_A = "commands_waiting"


def nudge_packet(contract_id: str, key: str) -> dict[str, str]:
    """The packet the cloud publishes after putting a command file."""
    return {"c": NUDGE_C, "a": NUDGE_A, "cid": contract_id, "key": key}


def is_nudge(payload: bytes, contract_id: str) -> bool:
    """True for a well-formed nudge for this contract (anything else is a command)."""
    if b'"Store"' not in payload:
        return False
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return (
        isinstance(obj, dict)
        and obj.get("c") == NUDGE_C
        and obj.get("a") == NUDGE_A
        and obj.get("cid") == contract_id
    )
