"""The bridge orchestrator: wires storage, transport, HA, the managers and the local API."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
import logging
import time
from typing import Any

from cloud_bridge import __version__
from cloud_bridge.activation import ActivationManager
from cloud_bridge.command_handler import CommandHandler
from cloud_bridge.config import BridgeConfig
from cloud_bridge.ha.base import HAError, HomeAssistantAPI
from cloud_bridge.local_api import LocalAPI
from cloud_bridge.ping import PingError, PingManager
from cloud_bridge.protocol.packets import ActivationAction, InstanceIdentity
from cloud_bridge.protocol.packing import PackContext
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.publisher import Publisher
from cloud_bridge.ratelimit import RateLimiter, SlidingWindow
from cloud_bridge.scoped_intake import ScopedIntake
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.sync import SyncEngine
from cloud_bridge.transport.base import (
    CloudTransport,
    ConnectionEvent,
    ConnectionState,
    TransportError,
)

_LOGGER = logging.getLogger(__name__)
KICK_CODE = "duplicate_client_id"
SCOPE_KEY = "synced_scope"  # kv: the entity ids the cloud was last sent
STORAGE_CODES = frozenset({"storage_full", "storage_readonly", "storage_error"})
HOUSEKEEPING_INTERVAL = 600.0
SCOPE_REFRESH_DELAY = 1.0  # debounce of registry refreshes for unseen entities


class Bridge:
    """One home's bridge. `start()` brings everything up; `stop()` takes it down cleanly."""

    def __init__(
        self,
        config: BridgeConfig,
        *,
        transport: CloudTransport,
        ha: HomeAssistantAPI,
        api_token: str,
        store: Store | None = None,
        serve_api: bool = True,
    ) -> None:
        self.config = config
        self.transport = transport
        self.ha = ha
        self.store = store or Store.in_data_dir(config.data_dir, config.low_capacity)
        self.topics = Topics.for_contract(config.contract_id, config.topic_prefix)
        self.limiter = RateLimiter(SlidingWindow(config.max_publish_rate, config.max_bytes_rate))
        self.publisher = Publisher(transport, self.limiter)
        send = self.publisher.publish
        self.identity = InstanceIdentity(
            contract_id=config.contract_id,
            instance_id=config.instance_id,
            instance_password=config.instance_password,
            name=config.name,
            type=config.type,
            location=config.location,
            phone=config.phone,
        )
        self.sync = SyncEngine(
            self.store,
            self.topics,
            PackContext(config.contract_id, config.instance_id, config.instance_password),
            send,
            high_window=config.high_window,
            low_window=config.low_window,
            on_error=self.report_error,
            on_recovered=self._storage_recovered,
        )
        self.intake = ScopedIntake(self.sync, self._schedule_scope_refresh)
        self.scope_refresh_delay = SCOPE_REFRESH_DELAY
        self._scope_refresh: asyncio.Task[Any] | None = None
        self.activation = ActivationManager(
            self.store,
            self.topics,
            self.identity,
            send,
            timeout=config.activation_timeout,
            attempts=config.activation_attempts,
        )
        self.ping = PingManager(
            self.store,
            self.topics,
            config.contract_id,
            send,
            interval=config.ping_interval,
            timeout=config.activation_timeout,
        )
        self.commands = CommandHandler(
            self.store,
            ha,
            self.topics,
            contract_id=config.contract_id,
            instance_id=config.instance_id,
            send=send,
            max_ttl=config.command_max_ttl,
            clock_skew=config.clock_skew,
            cover_timeout=config.cover_timeout,
        )
        self.api = (
            LocalAPI(self, api_token, config.api_host, config.api_port) if serve_api else None
        )
        self.last_error: dict[str, Any] | None = None
        self._saved_scope: frozenset[str] = frozenset()
        self.certificate_expires: str | None = None
        self._kick_loop = False
        self._online = False
        self._offline_resync_queued = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connect_task: asyncio.Task[None] | None = None
        self._resync_lock = asyncio.Lock()
        self.resyncs = 0
        self.scope_refreshes = 0
        self.received: dict[str, int] = {}

    # --- errors ---------------------------------------------------------------------

    def report_error(self, code: str, reason: str) -> None:
        """Remember the latest problem for `/api/status`."""
        self.last_error = {"code": code, "reason": reason, "at": time.time()}

    def _storage_recovered(self) -> None:
        """The outbox works again (room was freed): a storage error is no longer true."""
        if self.last_error and self.last_error["code"] in STORAGE_CODES:
            self.last_error = None

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, start HA, the API, the sync engine, and connect to the cloud."""
        await self._open_store()
        with contextlib.suppress(StorageError):
            await self.ping.load()
        try:
            self.intake.exposed = frozenset(await self.store.exposure())
            self._saved_scope = frozenset(await self.store.get(SCOPE_KEY, []))
            self.intake.previously_synced = self._saved_scope
        except StorageError as err:
            self.report_error(err.code, str(err))
        self.transport.set_handlers(self._on_message, self._on_connection)
        self.ha.set_handlers(self.intake.on_state, self._on_ha_connected)
        self.sync.start()
        if self.api is not None:
            await self.api.start()
        await self._read_certificate()
        await self.ha.start()
        self._ha_error_check()
        for topic in self.topics.home_subscriptions:
            await self.transport.subscribe(topic, 1)
        self._connect_task = asyncio.create_task(self._connect_loop(), name="cloud-connect")
        self.ping.start()
        self._spawn(self._housekeeping(), "housekeeping")

    async def _housekeeping(self) -> None:
        """Forget expired command ids (they are kept a while past their TTL)."""
        while True:
            try:
                purged = await self.store.purge_commands(time.time())
            except StorageError as err:
                self.report_error(err.code, str(err))
            else:
                if purged:
                    _LOGGER.debug("forgot %d expired command ids", purged)
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)

    async def _open_store(self) -> None:
        try:
            await self.store.open()
        except StorageError as err:
            _LOGGER.error("%s; keeping state in memory until restarted", err)  # noqa: TRY400
            self.report_error(err.code, str(err))
            fallback = Store(":memory:", self.config.low_capacity)
            await fallback.open()
            self._swap_store(fallback)

    def _swap_store(self, store: Store) -> None:
        self.store = store
        for part in (self.sync, self.activation, self.ping, self.commands):
            part.store = store

    async def _read_certificate(self) -> None:
        if self.config.transport != "aws_iot":
            return
        try:
            from cloud_bridge.transport.certs import certificate_expiry  # noqa: PLC0415
        except ImportError:  # pragma: no cover - cryptography is part of the add-on image
            return
        expiry: datetime | None = await asyncio.get_running_loop().run_in_executor(
            None, certificate_expiry, self.config.cert_file
        )
        self.certificate_expires = expiry.isoformat() if expiry else None

    async def _connect_loop(self) -> None:
        """The first connect; afterwards the transport reconnects by itself."""
        delay = 1.0
        while True:
            try:
                await self.transport.connect()
            except TransportError as err:
                _LOGGER.warning("cannot connect to the cloud: %s (retry in %.0f s)", err, delay)
                self.report_error(err.code, str(err))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            if self.transport.connected:
                self._came_online()
            return

    async def stop(self) -> None:
        """Stop everything; what is queued stays in the outbox for the next start."""
        await self.ping.stop()
        if self._connect_task is not None:
            self._connect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connect_task
        await self.commands.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.sync.stop()
        if self.api is not None:
            await self.api.stop()
        with contextlib.suppress(TransportError):
            await self.transport.disconnect()
        await self.ha.stop()
        await self.store.close()

    # --- events ---------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        self.limiter.note_inbound(len(payload))
        self.received[topic] = self.received.get(topic, 0) + 1
        if topic == self.topics.action:
            self.commands.on_action(payload)
        elif topic == self.topics.activate_reply:
            self.activation.on_reply(payload)
        elif topic == self.topics.ping_reply:
            self.ping.on_reply(payload)
        else:
            _LOGGER.debug("ignored a message on %s", topic)

    def _on_connection(self, event: ConnectionEvent) -> None:
        if event.state is ConnectionState.CONNECTED:
            self._came_online()
            return
        self._online = False
        self._offline_resync_queued = False
        self.sync.set_online(False)
        reason = event.reason or "the cloud connection was lost"
        self._kick_loop = event.code == KICK_CODE
        self.report_error(event.code or "cloud_disconnected", reason)
        _LOGGER.warning("cloud connection %s: %s", event.state.value, reason)

    def _came_online(self) -> None:
        if self._online:
            return
        self._online = True
        if self.last_error and self.last_error["code"] != KICK_CODE:
            cloud_codes = ("cloud_disconnected", "not_connected", "connect_failed")
            if self.last_error["code"] in cloud_codes:
                self.last_error = None
        self.sync.set_online(True)
        if self._resync_lock.locked() or self._offline_resync_queued:
            # a full resync made since the last disconnect is queued or under way already
            self._offline_resync_queued = False
            return
        self._spawn(self.resync(), "resync-cloud")

    async def _on_ha_connected(self) -> None:
        await self.resync()

    def _ha_error_check(self) -> None:
        error = getattr(self.ha, "last_error", None)
        if isinstance(error, HAError):
            self.report_error(f"ha_{error.code}", f"Home Assistant: {error}")

    # --- actions (also the local API's BridgeControl) -----------------------------------

    def _schedule_scope_refresh(self) -> None:
        if self._scope_refresh is None or self._scope_refresh.done():
            self._scope_refresh = asyncio.create_task(self._refresh_later(), name="scope-refresh")
            self._tasks.add(self._scope_refresh)
            self._scope_refresh.add_done_callback(self._tasks.discard)

    async def _refresh_later(self) -> None:
        await asyncio.sleep(self.scope_refresh_delay)
        await self.refresh_scope()

    async def resync(self) -> dict[str, Any]:
        """Queue a structure snapshot and every in-scope state (unconditional)."""
        return await self._sync_from_ha(full=True)

    async def refresh_scope(self) -> dict[str, Any]:
        """Reread the registry; send the structure if it changed and states new to the scope."""
        return await self._sync_from_ha(full=False)

    async def _sync_from_ha(self, *, full: bool) -> dict[str, Any]:
        async with self._resync_lock:
            if not self.ha.connected:
                self._ha_error_check()
                return {"ok": False, "reason": "Home Assistant is not connected"}
            try:
                registry = await self.ha.get_registry()
                states = await self.ha.get_states()
            except HAError as err:
                self.report_error(f"ha_{err.code}", f"Home Assistant: {err}")
                return {"ok": False, "reason": str(err)}
            queued = self.intake.apply(registry, states, full=full)
            try:
                await self.sync.flush()
                await self._save_scope()
            except StorageError as err:
                self.report_error(err.code, str(err))
            if not full:
                self.scope_refreshes += 1
            else:
                self.resyncs += 1
                if not self._online:
                    self._offline_resync_queued = True
            return {"ok": True, "entities": queued}

    async def activate(self) -> dict[str, Any]:
        """Activate the instance with the cloud."""
        return (await self.activation.run(ActivationAction.ACTIVATE)).as_dict()

    async def deregister(self) -> dict[str, Any]:
        """Deregister the instance."""
        return (await self.activation.run(ActivationAction.DEREGISTER)).as_dict()

    async def ping_now(self) -> dict[str, Any]:
        """Ping the cloud now."""
        try:
            rtt = await self.ping.ping()
        except PingError as err:
            return {"ok": False, "reason": str(err), "rtt_ms": None}
        return {"ok": True, "rtt_ms": rtt}

    async def get_exposure(self) -> list[str]:
        """The entities the cloud may command."""
        return await self.store.exposure()

    async def set_exposure(self, entities: list[str]) -> list[str]:
        """Replace the allow-list; the sync scope follows it at once."""
        stored = await self.store.set_exposure(entities)
        self.intake.exposed = frozenset(stored)
        if not (await self.refresh_scope())["ok"]:
            self.intake.rescope()  # HA is away: its next connect resyncs the states
            with contextlib.suppress(StorageError):
                await self.sync.flush()
                await self._save_scope()
        return stored

    async def _save_scope(self) -> None:
        """Remember which entities the cloud has (after their removals are in the outbox)."""
        synced = self.intake.scope.synced
        if synced != self._saved_scope:
            await self.store.set(SCOPE_KEY, sorted(synced))
            self._saved_scope = synced

    async def status(self) -> dict[str, Any]:
        """The status document of the local API."""
        self._ha_error_check()
        try:
            activation = await self.store.get("activation", {})
            subscription = await self.store.get("subscription", {})
            outbox = await self.store.counts()
        except StorageError as err:
            self.report_error(err.code, str(err))
            activation, subscription, outbox = {}, {}, {}
        diagnosis = getattr(self.transport, "diagnosis", None)
        kick = self._kick_loop or getattr(diagnosis, "code", None) == KICK_CODE
        return {
            "contract_id": self.config.contract_id,
            "instance_id": self.config.instance_id,
            "cloud_connected": self.transport.connected,
            "ha_connected": self.ha.connected,
            "activation": {
                "state": activation.get("state", "never"),
                "last_attempt": activation.get("last_attempt"),
                "reason": activation.get("reason"),
            },
            "subscription": {
                "state": subscription.get("state", "none"),
                "expires": subscription.get("expires"),
            },
            "ping": {"last_rtt_ms": self.ping.last_rtt_ms, "last_success": self.ping.last_success},
            "outbox": {
                "structure": outbox.get("structure", 0),
                "high": outbox.get("high", 0),
                "low": outbox.get("low", 0),
                "dropped_low": outbox.get("dropped_low", 0) + self.sync.dropped_low,
            },
            "last_error": self.last_error,
            "certificate_expires": self.certificate_expires,
            "kick_loop": kick,
            "version": __version__,
        }
