"""The one place the bridge's parts are built and wired (app.py and tests use it).

A new part (a second command channel, certificate rotation, ...) is a field of
`BridgeParts`, built in `build_parts` from the shared pieces: the one `Store` (never
replaced: when the data folder fails it carries on in memory itself), the one `Clock`,
the one `ErrorState`, and `publisher.publish` as the only way out to the cloud.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloud_bridge.activation import ActivationManager
from cloud_bridge.bridge import Bridge
from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.cloud_link import CloudLink
from cloud_bridge.command_handler import CommandHandler
from cloud_bridge.config import BridgeConfig
from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.ha.automations import AutomationConfigs
from cloud_bridge.ha.base import HomeAssistantAPI
from cloud_bridge.ping import PingManager
from cloud_bridge.protocol.admission import AdmissionRules
from cloud_bridge.protocol.packets import InstanceIdentity
from cloud_bridge.protocol.packing import PackContext
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.publisher import Publisher
from cloud_bridge.ratelimit import RateLimiter, SlidingWindow
from cloud_bridge.rule_handler import ConfigReader, RuleHandler
from cloud_bridge.scope_sync import SCOPE_REFRESH_DELAY, ScopeSync
from cloud_bridge.status import StatusBuilder
from cloud_bridge.storage import Store
from cloud_bridge.store_channel.channel import StoreChannel
from cloud_bridge.store_channel.wiring import make_channel, make_offload, ping_provider
from cloud_bridge.sync import SendFunc, SyncEngine
from cloud_bridge.transport.base import CloudTransport

if TYPE_CHECKING:
    from cloud_bridge.identity.manager import IdentityManager

STORAGE_CODES = frozenset({"storage_full", "storage_readonly", "storage_error"})


@dataclass(slots=True)
class BridgeParts:
    """Every part of one bridge, sharing one store, one clock and one error state."""

    config: BridgeConfig
    transport: CloudTransport
    ha: HomeAssistantAPI
    store: Store
    clock: Clock
    errors: ErrorState
    topics: Topics
    limiter: RateLimiter
    publisher: Publisher
    link: CloudLink
    sync: SyncEngine
    scope: ScopeSync
    activation: ActivationManager
    ping: PingManager
    commands: CommandHandler
    status: StatusBuilder
    store_channel: StoreChannel | None = None  # command files on a folder or S3
    credentials: IdentityManager | None = None  # the device certificate (aws_iot)
    rules: RuleHandler | None = None


def instance_identity(config: BridgeConfig) -> InstanceIdentity:
    """Who this instance is, as activation packets say it."""
    return InstanceIdentity(
        contract_id=config.contract_id,
        instance_id=config.instance_id,
        instance_password=config.instance_password,
        name=config.name,
        type=config.type,
        location=config.location,
        phone=config.phone,
    )


def command_handler(  # noqa: PLR0917 - the shared pieces every command channel needs
    config: BridgeConfig,
    store: Store,
    ha: HomeAssistantAPI,
    topics: Topics,
    send: SendFunc,
    clock: Clock,
    rules: RuleHandler | None = None,
) -> CommandHandler:
    """A command handler with the bridge's admission rules (a channel of commands)."""
    return CommandHandler(
        store,
        ha,
        topics,
        contract_id=config.contract_id,
        instance_id=config.instance_id,
        send=send,
        max_ttl=config.command_max_ttl,
        clock_skew=config.clock_skew,
        cover_timeout=config.cover_timeout,
        clock=clock,
        rules=rules,
    )


def sync_engine(  # noqa: PLR0917
    config: BridgeConfig,
    store: Store,
    topics: Topics,
    send: SendFunc,
    errors: ErrorState,
    clock: Clock,
) -> SyncEngine:
    """The sync engine; its outbox problems are the storage part's errors."""
    return SyncEngine(
        store,
        topics,
        PackContext(config.contract_id, config.instance_id, config.instance_password),
        send,
        high_window=config.high_window,
        low_window=config.low_window,
        on_error=lambda code, reason: errors.report(Part.STORAGE, code, reason),
        on_recovered=lambda: errors.clear(Part.STORAGE, STORAGE_CODES),
        clock=clock,
    )


def activation_manager(
    config: BridgeConfig, store: Store, topics: Topics, send: SendFunc, clock: Clock
) -> ActivationManager:
    """Activation and deregistration with the options' timeout and attempts."""
    return ActivationManager(
        store,
        topics,
        instance_identity(config),
        send,
        timeout=config.activation_timeout,
        attempts=config.activation_attempts,
        clock=clock,
    )


def admission_rules(config: BridgeConfig) -> AdmissionRules:
    """The admission rules (protocol/admission.py) this bridge's options give."""
    return AdmissionRules(config.contract_id, config.command_max_ttl, config.clock_skew)


def _with_credentials(parts: BridgeParts, credentials: IdentityManager | None) -> BridgeParts:
    """The certificate's errors are the identity part's; its state is in the status."""
    if credentials is not None:
        parts.credentials = credentials
        credentials.errors = parts.errors
        parts.status.sections["certificate_expires"] = credentials.certificate_expires
        parts.status.sections["identity"] = credentials.status_section
    return parts


def rule_handler(
    ha: HomeAssistantAPI,
    sync: SyncEngine,
    automations: AutomationConfigs | None,
    user_rules: ConfigReader | None,
) -> RuleHandler | None:
    """The handler of rule commands, syncing in the structure lane; None without HA's
    automation API (rule commands then fail saying so)."""
    if automations is None:
        return None
    return RuleHandler(ha, automations, sync.queue_rules, user_rules=user_rules)


def build_parts(
    config: BridgeConfig,
    *,
    transport: CloudTransport,
    ha: HomeAssistantAPI,
    store: Store | None = None,
    clock: Clock = SYSTEM_CLOCK,
    scope_refresh_delay: float = SCOPE_REFRESH_DELAY,
    credentials: IdentityManager | None = None,
    automations: AutomationConfigs | None = None,
    user_rules: ConfigReader | None = None,
) -> BridgeParts:
    """Build and wire the parts (nothing starts here); rule commands need `automations`."""
    store = store or Store.in_data_dir(config.data_dir, config.low_capacity)
    errors = ErrorState(clock)
    topics = Topics.for_contract(config.contract_id, config.topic_prefix)
    limiter = RateLimiter(SlidingWindow(config.max_publish_rate, config.max_bytes_rate))
    publisher = Publisher(transport, limiter)
    send = publisher.publish
    where = f"{config.endpoint}:{config.port} as client id {config.client_id}"
    sync = sync_engine(config, store, topics, send, errors, clock)
    scope = ScopeSync(ha, store, sync, errors, refresh_delay=scope_refresh_delay)
    link = CloudLink(transport, errors, sync, scope, where=where, clock=clock)
    ping = PingManager(
        store,
        topics,
        config.contract_id,
        send,
        interval=config.ping_interval,
        timeout=config.activation_timeout,
        clock=clock,
    )
    rules = rule_handler(ha, sync, automations, user_rules)
    parts = BridgeParts(
        config=config,
        transport=transport,
        ha=ha,
        store=store,
        clock=clock,
        errors=errors,
        topics=topics,
        limiter=limiter,
        publisher=publisher,
        link=link,
        sync=sync,
        scope=scope,
        activation=activation_manager(config, store, topics, send, clock),
        ping=ping,
        commands=command_handler(config, store, ha, topics, send, clock, rules),
        status=StatusBuilder(
            config, store=store, ha=ha, link=link, scope=scope, ping=ping, sync=sync, errors=errors
        ),
        rules=rules,
    )
    return _with_credentials(parts, credentials)


def attach_store_channel(parts: BridgeParts) -> None:
    """The store channel, when the options turn it on: a second channel of commands (the
    same admission), a status section, and the structure lane's offload."""
    config = parts.config
    if not config.store_channel:
        return
    channel = make_channel(
        config,
        parts.store,
        parts.ha,
        admission_rules(config),
        status=parts.status.build,
        ping=ping_provider(parts.ping),
        resync=parts.scope.resync,
        clock=parts.clock,
    )
    channel.errors = parts.errors  # a store refusing us is the store_channel part's error
    parts.store_channel = channel
    parts.status.sections["store_channel"] = channel.status_section
    parts.sync.offload = make_offload(channel, parts.sync.context)


def build_bridge(
    config: BridgeConfig,
    *,
    transport: CloudTransport,
    ha: HomeAssistantAPI,
    api_token: str,
    store: Store | None = None,
    serve_api: bool = True,
    clock: Clock = SYSTEM_CLOCK,
    scope_refresh_delay: float = SCOPE_REFRESH_DELAY,
    credentials: IdentityManager | None = None,
    automations: AutomationConfigs | None = None,
    user_rules: ConfigReader | None = None,
) -> Bridge:
    """A bridge of freshly built parts, serving the local API unless `serve_api` is False."""
    parts = build_parts(
        config,
        transport=transport,
        ha=ha,
        store=store,
        clock=clock,
        scope_refresh_delay=scope_refresh_delay,
        credentials=credentials,
        automations=automations,
        user_rules=user_rules,
    )
    attach_store_channel(parts)
    return Bridge(parts, api_token=api_token, serve_api=serve_api)
