"""The store channel built from the bridge's shared pieces (factory.py calls this)."""

from __future__ import annotations

from typing import Any

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.config import SECRET_OPTIONS, BridgeConfig
from cloud_bridge.ha.base import HomeAssistantAPI
from cloud_bridge.ping import PingError, PingManager
from cloud_bridge.protocol.admission import AdmissionRules
from cloud_bridge.protocol.packing import PackContext
from cloud_bridge.storage import Store
from cloud_bridge.store_channel.admission import command_admission
from cloud_bridge.store_channel.channel import StoreChannel
from cloud_bridge.store_channel.factory import build_channel, settings_from_config
from cloud_bridge.store_channel.offload import SnapshotOffload
from cloud_bridge.store_channel.verbs import Hooks, Provider

REDACTED = "**REDACTED**"
_ALSO_SECRET = ("aws_access_key_id",)


def redacted_options(config: BridgeConfig) -> dict[str, Any]:
    """The bridge's options with every secret replaced."""
    out: dict[str, Any] = {}
    for name in config.__dataclass_fields__:
        value = getattr(config, name)
        if name in SECRET_OPTIONS or name in _ALSO_SECRET:
            value = REDACTED if value else value
        plain = value is None or isinstance(value, int | float | bool | str)
        out[name] = value if plain else str(value)
    return out


def ping_provider(ping: PingManager) -> Provider:
    """`ping()`: a ping to the cloud now, as the local API's `POST /api/ping` answers."""

    async def ping_now() -> dict[str, Any]:
        try:
            rtt = await ping.ping()
        except PingError as err:
            return {"ok": False, "reason": str(err), "rtt_ms": None}
        return {"ok": True, "rtt_ms": rtt}

    return ping_now


def make_offload(channel: StoreChannel, context: PackContext) -> SnapshotOffload | None:
    """The structure lane's offload to the contents store, when one is configured."""
    contents = channel.stores.get("contents")
    if contents is None:
        return None
    return SnapshotOffload(contents, context, channel.settings.service)


def store_hooks(
    store: Store,
    ha: HomeAssistantAPI,
    rules: AdmissionRules,
    *,
    status: Provider,
    ping: Provider,
    resync: Provider,
    diagnostics: Provider,
    clock: Clock = SYSTEM_CLOCK,
) -> Hooks:
    """The hooks of the verbs: exposure and outbox from the store, the shared admission."""
    return Hooks(
        ha=ha,
        admission=command_admission(rules, store.exposure, store.remember_command, clock),
        exposed=store.exposure,
        status=status,
        ping=ping,
        resync=resync,
        outbox=store.counts,
        diagnostics=diagnostics,
    )


def make_channel(
    config: BridgeConfig,
    store: Store,
    ha: HomeAssistantAPI,
    rules: AdmissionRules,
    *,
    status: Provider,
    ping: Provider,
    resync: Provider,
    clock: Clock = SYSTEM_CLOCK,
) -> StoreChannel:
    """A channel on the configured stores, its ledger in the bridge's database."""

    async def diagnostics() -> dict[str, Any]:
        return {"options": redacted_options(config), "status": await status()}

    hooks = store_hooks(
        store,
        ha,
        rules,
        status=status,
        ping=ping,
        resync=resync,
        diagnostics=diagnostics,
        clock=clock,
    )
    return build_channel(settings_from_config(config), store, hooks)
