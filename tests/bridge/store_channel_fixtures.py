"""A store channel on a real folder or a real S3 server (moto), with real SQLite and the
in-memory HA fake; the `cloud` side writes command files and reads results."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import time
from typing import Any

from cloud_bridge.protocol.admission import AdmissionRules
from cloud_bridge.storage import Store
from cloud_bridge.store_channel.backend import FolderStore, ObjectStore, StoreNotFoundError
from cloud_bridge.store_channel.channel import StoreChannel
from cloud_bridge.store_channel.factory import build_channel
from cloud_bridge.store_channel.settings import ChannelSettings, default_specs
from cloud_bridge.store_channel.verbs import Hooks
from cloud_bridge.store_channel.wiring import store_hooks
from tests.bridge.fakes import FakeHomeAssistant
from tests.helpers.polling import wait_for
from tests.helpers.s3_server import BUCKET, CREDENTIALS, REGION, S3Server

SERVICE = "inspextor"
COMMANDS_KEY = f"{SERVICE}/commands.json"
RESULT_KEY = f"{SERVICE}/last_monitoring_status.json"


@dataclass
class Rig:
    """The bridge side (channel, store, HA) and the cloud side (its own backends)."""

    channel: StoreChannel
    store: Store
    ha: FakeHomeAssistant
    cloud_incoming: ObjectStore
    cloud_status: ObjectStore
    settings: ChannelSettings
    resyncs: list[float] = field(default_factory=list)

    async def put_commands(self, commands: list[str], **fields: Any) -> bytes:
        items = [{"command": c} for c in commands]
        body = json.dumps({"commands": items, **fields} if fields else items).encode()
        await self.cloud_incoming.put(COMMANDS_KEY, body)
        return body

    async def put_raw(self, body: bytes) -> None:
        await self.cloud_incoming.put(COMMANDS_KEY, body)

    async def result(self) -> dict[str, Any] | None:
        try:
            fetched = await self.cloud_status.get(RESULT_KEY, max_bytes=50 * 2**20)
        except StoreNotFoundError:
            return None
        assert fetched is not None
        return dict(json.loads(fetched.data))

    async def wait_result(self, version: str, timeout: float = 20.0) -> dict[str, Any]:
        async def answered() -> dict[str, Any] | None:
            result = await self.result()
            return result if result and result.get("file_version") == version else None

        found = await wait_for(answered, timeout, f"the result of {version[:12]}")
        assert found is not None
        return found


def settings_for(
    backend: str, folder: Path, server: S3Server | None, endpoint: str | None, **overrides: Any
) -> ChannelSettings:
    specs = [
        spec.__class__(spec.store_name, BUCKET, REGION, f"home-1/{spec.store_name}")
        for spec in default_specs()
    ]
    values: dict[str, Any] = {
        "backend": backend,
        "specs": tuple(specs),
        "folder": folder,
        "service": SERVICE,
        "poll_interval": 3600.0,
        "status_interval": 0.0,
        "default_ttl": 86400.0,
        "credentials": CREDENTIALS if server else None,
        "endpoint": endpoint or (server.endpoint if server else None),
        "scheme": "http",
    }
    values.update(overrides)
    return ChannelSettings(**values)


def make_hooks(store: Store, ha: FakeHomeAssistant, resyncs: list[float]) -> Hooks:
    async def status() -> dict[str, Any]:
        return {"instance_id": "home-1", "cloud_connected": True, "at": time.time()}

    async def ping() -> dict[str, Any]:
        return {"ok": True, "rtt_ms": 1.0}

    async def resync() -> dict[str, Any]:
        resyncs.append(time.time())
        return {"ok": True, "entities": len(ha.states)}

    async def diagnostics() -> dict[str, Any]:
        return {"config": {"instance_password": "**REDACTED**"}, "outbox": await store.counts()}

    return store_hooks(
        store,
        ha,
        AdmissionRules("C-1"),
        status=status,
        ping=ping,
        resync=resync,
        diagnostics=diagnostics,
    )


def cloud_backends(settings: ChannelSettings, server: S3Server | None) -> tuple[Any, Any]:
    if server is None:
        root = settings.folder / BUCKET
        return FolderStore(root / "home-1/incoming"), FolderStore(root / "home-1/status")
    return server.store("home-1/incoming"), server.store("home-1/status")


@contextlib.asynccontextmanager
async def channel_rig(
    tmp_path: Path,
    backend: str,
    server: S3Server | None,
    *,
    endpoint: str | None = None,
    start: bool = False,
    **overrides: Any,
) -> AsyncIterator[Rig]:
    store = Store(tmp_path / "bridge.sqlite3")
    await store.open()
    ha = FakeHomeAssistant()
    ha.set("light.kitchen", "off", brightness=0)
    ha.set("light.hidden", "off")
    await store.set_exposure(["light.kitchen"])
    settings = settings_for(backend, tmp_path / "stores", server, endpoint, **overrides)
    resyncs: list[float] = []
    channel = build_channel(settings, store, make_hooks(store, ha, resyncs))
    incoming, status = cloud_backends(settings, server)
    rig = Rig(channel, store, ha, incoming, status, settings, resyncs)
    try:
        if start:
            await channel.start()
        else:
            await channel.ledger.open()
        yield rig
    finally:
        await channel.stop()
        await incoming.close()
        await status.close()
        await store.close()
