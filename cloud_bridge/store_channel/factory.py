"""The store channel built from the bridge's options and narrow hooks into the bridge."""

from __future__ import annotations

from pathlib import Path

from cloud_bridge.config import BridgeConfig
from cloud_bridge.storage import Store
from cloud_bridge.store_channel.channel import StoreChannel
from cloud_bridge.store_channel.ledger import Ledger
from cloud_bridge.store_channel.settings import (
    ChannelSettings,
    make_backends,
    parse_store_configuration,
)
from cloud_bridge.store_channel.sigv4 import Credentials
from cloud_bridge.store_channel.verbs import Hooks, Verbs


def settings_from_config(config: BridgeConfig) -> ChannelSettings:
    """The channel's settings (STORE_CONFIGURATION parsed; it was checked with the rest)."""
    credentials = None
    if config.aws_access_key_id and config.aws_secret_access_key:
        credentials = Credentials(config.aws_access_key_id, config.aws_secret_access_key)
    return ChannelSettings(
        backend=config.store_backend,
        specs=tuple(parse_store_configuration(config.store_configuration or "")),
        folder=Path(config.store_folder) if config.store_folder else config.data_dir / "stores",
        service=config.store_service,
        poll_interval=float(config.store_poll_interval),
        status_interval=float(config.store_status_interval),
        default_ttl=float(config.store_command_ttl),
        credentials=credentials,
        endpoint=config.s3_store_custom_hostandport_endpoint,
        scheme=config.s3_store_custom_http_scheme,
    )


def build_channel(settings: ChannelSettings, store: Store, hooks: Hooks) -> StoreChannel:
    """A channel on the configured backends, its ledger in the bridge's database."""
    stores = make_backends(settings)
    verbs = Verbs(hooks, stores["status"], settings.service)
    return StoreChannel(settings, stores, Ledger(store), verbs, hooks.status)
