"""The dev cloud's side of the store channel: it writes command files, reads results, and
follows structure snapshots sent by reference (contract 1, `snapshot_ref`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import hashlib
import json
import time
from typing import Any

from cloud_bridge.protocol.packets import PacketError
from cloud_bridge.protocol.records import RecordError, validate_record
from cloud_bridge.store_channel.backend import (
    ObjectStore,
    StoreNotFoundError,
    StoreUnavailableError,
    TooLargeError,
)

type JSONDict = dict[str, Any]
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
FETCH_TRIES = 5


class StoreDesk:
    """One store configuration (the homes that share it) seen from the cloud."""

    def __init__(
        self, stores: dict[str, ObjectStore], service: str, nudge: Callable[[str, str], None]
    ) -> None:
        self.stores = stores
        self.service = service
        self._nudge = nudge
        self.followed = 0

    @property
    def command_key(self) -> str:
        return f"{self.service}/commands.json"

    async def send(self, cid: str, commands: list[str], ttl: float | None = None) -> JSONDict:
        """Put a command file (issued now, so each is a new version) and nudge the home."""
        document: JSONDict = {"commands": [{"command": c} for c in commands]}
        document["issued_at"] = time.time()
        if ttl is not None:
            document["ttl"] = ttl
        body = json.dumps(document).encode()
        await self.stores["incoming"].put(self.command_key, body)
        self._nudge(cid, self.command_key)
        return {"key": self.command_key, "version": hashlib.sha256(body).hexdigest()}

    async def results(self) -> JSONDict | None:
        """The home's last result file, or None before its first."""
        try:
            fetched = await self.stores["status"].get(f"{self.service}/last_monitoring_status.json")
        except StoreNotFoundError:
            return None
        return json.loads(fetched.data) if fetched else None

    async def follow(self, records: list[JSONDict]) -> list[JSONDict]:
        """Replace every snapshot reference by the snapshot it names (checked)."""
        return [await self._resolve(r) if r.get("kind") == "snapshot_ref" else r for r in records]

    async def _resolve(self, ref: JSONDict) -> JSONDict:
        store = self.stores.get(str(ref["store"]))
        if store is None:
            raise PacketError(f"a snapshot reference to the unknown store {ref['store']!r}")
        data = await self._fetch(store, str(ref["key"]), int(ref["size"]))
        if len(data) != ref["size"] or hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise PacketError("a referenced snapshot does not match its size and sha256")
        try:
            snapshot = validate_record(json.loads(data))
        except (ValueError, RecordError) as err:
            raise PacketError(f"a referenced snapshot is not a snapshot: {err}") from None
        if snapshot.get("kind") != "snapshot" or snapshot.get("seq") != ref["seq"]:
            raise PacketError("a referenced snapshot is not the snapshot of that seq")
        self.followed += 1
        return snapshot

    @staticmethod
    async def _fetch(store: ObjectStore, key: str, size: int) -> bytes:
        delay = 0.2
        for attempt in range(FETCH_TRIES):
            try:
                fetched = await store.get(key, max_bytes=min(size, MAX_SNAPSHOT_BYTES))
            except (StoreNotFoundError, TooLargeError) as err:
                raise PacketError(f"referenced snapshot {key}: {err}") from None
            except StoreUnavailableError:
                if attempt == FETCH_TRIES - 1:
                    raise PacketError(f"referenced snapshot {key}: store unreachable") from None
                await asyncio.sleep(delay)
                delay *= 2
                continue
            assert fetched is not None
            return fetched.data
        raise PacketError(f"referenced snapshot {key}: not fetched")  # pragma: no cover
