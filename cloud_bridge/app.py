"""Build the real bridge from a config and run it until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from pathlib import Path
import secrets
import signal
from typing import TYPE_CHECKING

import aiohttp

from cloud_bridge.config import BridgeConfig, ensure_api_token
from cloud_bridge.factory import build_bridge
from cloud_bridge.ha.automations import RestAutomationConfigs
from cloud_bridge.ha.client import HAWebSocketClient
from cloud_bridge.logsafe import key_secrets, setup_logging
from cloud_bridge.transport.base import CloudTransport
from cloud_bridge.transport.mqtt import MqttTransport
from cloud_bridge.transport.tls import TLSSettings

if TYPE_CHECKING:
    from cloud_bridge.identity.manager import IdentityManager

_LOGGER = logging.getLogger(__name__)


def make_identity(config: BridgeConfig) -> IdentityManager:
    """The identity manager of an aws_iot bridge: its transport survives certificate swaps."""
    from cloud_bridge.identity.manager import (  # noqa: PLC0415 - loads awscrt
        IdentityManager,
        IdentitySettings,
    )
    from cloud_bridge.identity.rotator import RotationSettings, fresh_jitter  # noqa: PLC0415
    from cloud_bridge.transport.awsiot import AwsIotTransport  # noqa: PLC0415

    def open_transport(cert_file: Path, key_file: Path, client_id: str) -> AwsIotTransport:
        return AwsIotTransport(
            config.endpoint,
            config.port,
            client_id,
            cert_file,
            key_file,
            config.ca_file,
            keepalive=config.keepalive,
        )

    rotation = RotationSettings(
        template=config.provisioning_template,
        contract_id=config.contract_id,
        instance_id=config.instance_id,
        client_id=config.client_id,
        topic_prefix=config.topic_prefix,
        margin=timedelta(days=config.rotation_margin_days),
        jitter=fresh_jitter(),
    )
    settings = IdentitySettings(
        directory=config.data_dir / "identity",
        cert_file=config.cert_file,
        key_file=config.key_file,
        claim_cert_file=config.claim_cert_file,
        claim_key_file=config.claim_key_file,
        template=config.provisioning_template,
        rotation=rotation,
    )
    return IdentityManager(settings, open_transport)


def make_transport(config: BridgeConfig) -> CloudTransport:
    """MqttTransport (Mosquitto, dev cloud) or AwsIotTransport (awsiotsdk, mTLS)."""
    if config.transport == "mqtt":
        tls = (
            TLSSettings(
                config.ca_file, config.cert_file, config.key_file, client_cert_optional=True
            )
            if config.mqtt_tls
            else None
        )
        return MqttTransport(
            config.endpoint,
            config.port,
            config.client_id,
            username=config.mqtt_username,
            password=config.mqtt_password,
            tls=tls,
            keepalive=config.keepalive,
        )
    from cloud_bridge.transport.awsiot import AwsIotTransport  # noqa: PLC0415 - loads awscrt

    return AwsIotTransport(
        config.endpoint,
        config.port,
        config.client_id,
        config.cert_file,
        config.key_file,
        config.ca_file,
        keepalive=config.keepalive,
    )


def _prepare_data_dir(config: BridgeConfig) -> str | None:
    """Create the data folder; a problem is returned (to log), never raised."""
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"cannot use the data folder {config.data_dir}: {err.strerror or err}"
    return None


def _api_token(config: BridgeConfig) -> str:
    """The local API token; one for this run only when the data folder cannot keep it."""
    try:
        return ensure_api_token(config)
    except OSError as err:
        _LOGGER.warning(  # logging is not set up yet: this goes to stderr as is
            "cannot keep the local API token in %s (%s); using one for this run only",
            config.data_dir,
            err.strerror or err,
        )
        return secrets.token_urlsafe(32)


async def run(config: BridgeConfig, stop: asyncio.Event | None = None) -> None:
    """Run the bridge until `stop` is set or the process gets SIGTERM/SIGINT."""
    loop = asyncio.get_running_loop()
    problem = await loop.run_in_executor(None, _prepare_data_dir, config)
    token = await loop.run_in_executor(None, _api_token, config)
    keys = await loop.run_in_executor(None, key_secrets, config.key_file)
    setup_logging(config.log_level, [*config.secrets, token, *keys])
    if problem:
        # the store reports it too and keeps state in memory; the bridge stays up
        _LOGGER.error("%s", problem)
    stop = stop or asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        ha = HAWebSocketClient(session, config.ha_url, config.ha_token)
        identity = make_identity(config) if config.transport == "aws_iot" else None
        transport = identity.transport if identity is not None else make_transport(config)
        automations = RestAutomationConfigs(session, config.ha_url, config.ha_token)
        bridge = build_bridge(
            config,
            transport=transport,
            ha=ha,
            api_token=token,
            credentials=identity,
            automations=automations,
            user_rules=ha.automation_config if config.expose_user_rules else None,
        )
        await bridge.start()
        _LOGGER.info(
            "bridge %s up: contract %s, %s at %s:%d",
            config.instance_id,
            config.contract_id,
            config.transport,
            config.endpoint,
            config.port,
        )
        try:
            await stop.wait()
        finally:
            _LOGGER.info("stopping the bridge")
            await bridge.stop()
