"""The store channel attached to a running bridge through the few things it uses."""

from __future__ import annotations

from typing import Any, Protocol

from cloud_bridge.config import SECRET_OPTIONS, BridgeConfig
from cloud_bridge.ha.base import HomeAssistantAPI
from cloud_bridge.protocol.packing import PackContext
from cloud_bridge.storage import Store
from cloud_bridge.store_channel.channel import StoreChannel
from cloud_bridge.store_channel.factory import build_channel, settings_from_config
from cloud_bridge.store_channel.offload import SnapshotOffload
from cloud_bridge.store_channel.verbs import Hooks, exposure_admission

REDACTED = "**REDACTED**"
_ALSO_SECRET = ("aws_access_key_id",)


class BridgeParts(Protocol):
    """What the channel needs from the bridge."""

    config: BridgeConfig
    store: Store
    ha: HomeAssistantAPI

    async def status(self) -> dict[str, Any]:
        """The status document."""

    async def ping_now(self) -> dict[str, Any]:
        """Ping the cloud."""

    async def resync(self) -> dict[str, Any]:
        """Queue a full resync."""


def redacted_options(config: BridgeConfig) -> dict[str, Any]:
    """The bridge's options with every secret replaced."""
    out: dict[str, Any] = {}
    for name in config.__dataclass_fields__:
        value = getattr(config, name)
        if name in SECRET_OPTIONS or name in _ALSO_SECRET:
            value = REDACTED if value else value
        out[name] = (
            str(value)
            if value is not None and not isinstance(value, int | float | bool | str)
            else value
        )
    return out


def make_offload(channel: StoreChannel, context: PackContext) -> SnapshotOffload | None:
    """The structure lane's offload to the contents store, when one is configured."""
    contents = channel.stores.get("contents")
    if contents is None:
        return None
    return SnapshotOffload(contents, context, channel.settings.service)


def make_channel(bridge: BridgeParts) -> StoreChannel:
    """A channel whose hooks always reach the bridge's current store (it may be swapped)."""

    async def exposed() -> list[str]:
        return await bridge.store.exposure()

    async def outbox() -> dict[str, int]:
        return await bridge.store.counts()

    async def diagnostics() -> dict[str, Any]:
        return {"options": redacted_options(bridge.config), "status": await bridge.status()}

    hooks = Hooks(
        ha=bridge.ha,
        admission=exposure_admission(exposed),
        exposed=exposed,
        status=bridge.status,
        ping=bridge.ping_now,
        resync=bridge.resync,
        outbox=outbox,
        diagnostics=diagnostics,
    )
    return build_channel(settings_from_config(bridge.config), bridge.store, hooks)
