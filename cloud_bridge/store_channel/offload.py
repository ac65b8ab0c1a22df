"""Structure snapshots too large for MQTT go to the contents store whole; the structure
lane then carries a small reference (store, key, size, sha256) the cloud follows."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from cloud_bridge.protocol import fastjson
from cloud_bridge.protocol.packing import PackContext, pack
from cloud_bridge.protocol.records import Lane, Record, snapshot_reference
from cloud_bridge.store_channel.backend import ObjectStore, StoreUnavailableError

_LOGGER = logging.getLogger(__name__)
MAX_MQTT_PARTS = 3  # a snapshot that would need more parts than this goes by reference
CONTENTS = "contents"


class SnapshotOffload:
    """The sync engine's `offload` hook."""

    def __init__(self, contents: ObjectStore, context: PackContext, service: str) -> None:
        self.contents = contents
        self.context = context
        self.service = service
        self.offloaded = 0

    async def __call__(self, record: Record) -> Record:
        """The record itself when it fits in a few packets or the store is unreachable
        (then MQTT carries it in parts as before), else a reference to the stored copy."""
        if record.get("kind") != "snapshot":
            return record
        loop = asyncio.get_running_loop()
        parts = len(
            await loop.run_in_executor(
                None, pack, self.context, Lane.STRUCTURE, [record], time.time()
            )
        )
        if parts <= MAX_MQTT_PARTS:
            return record
        body = fastjson.dumps_bytes(record)
        digest = hashlib.sha256(body).hexdigest()
        key = f"{self.service}/snapshots/{digest}.json"
        try:
            await self.contents.put(key, body)
        except StoreUnavailableError as err:
            _LOGGER.warning("snapshot not offloaded (%s): sending it in %d parts", err, parts)
            return record
        self.offloaded += 1
        counts = {k: len(record.get(k, [])) for k in ("areas", "devices", "entities")}
        return snapshot_reference(
            int(record["seq"]),
            float(record["ts"]),
            store=CONTENTS,
            key=key,
            size=len(body),
            sha256=digest,
            counts=counts,
        )
