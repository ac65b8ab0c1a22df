"""The bridge: starts and stops its parts (built by factory.py) and routes their events.

What each part does lives in its own module: the cloud connection (cloud_link.py), the
errors of each part (error_state.py), the scope of the cloud's copy (scope_sync.py),
the status document (status.py), commands (command_handler.py), sync (sync.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from cloud_bridge.error_state import Part
from cloud_bridge.ha.base import HAError
from cloud_bridge.local_api import LocalAPI
from cloud_bridge.ping import PingError
from cloud_bridge.protocol.packets import ActivationAction
from cloud_bridge.rule_handler import is_automation
from cloud_bridge.storage import StorageError
from cloud_bridge.store_channel.nudge import is_nudge
from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import TransportError

if TYPE_CHECKING:
    from cloud_bridge.factory import BridgeParts

_LOGGER = logging.getLogger(__name__)
HOUSEKEEPING_INTERVAL = 600.0


class Bridge:
    """One home's bridge. `start()` brings everything up; `stop()` takes it down cleanly."""

    def __init__(self, parts: BridgeParts, *, api_token: str, serve_api: bool = True) -> None:
        self.parts = parts
        self.config = parts.config
        self.transport = parts.transport
        self.ha = parts.ha
        self.store = parts.store
        self.topics = parts.topics
        self.limiter = parts.limiter
        self.publisher = parts.publisher
        self.errors = parts.errors
        self.link = parts.link
        self.sync = parts.sync
        self.scope = parts.scope
        self.activation = parts.activation
        self.ping = parts.ping
        self.commands = parts.commands
        self.store_channel = parts.store_channel
        self.api = (
            LocalAPI(self, api_token, self.config.api_host, self.config.api_port)
            if serve_api
            else None
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connect_task: asyncio.Task[None] | None = None
        self.received: dict[str, int] = {}

    @property
    def last_error(self) -> dict[str, Any] | None:
        """The most severe part error (as `/api/status` shows it), or None."""
        worst = self.errors.most_severe
        return worst.as_dict() if worst else None

    @property
    def resyncs(self) -> int:
        """Full resyncs made."""
        return self.scope.resyncs

    @property
    def scope_refreshes(self) -> int:
        """Registry refreshes made."""
        return self.scope.scope_refreshes

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
        await self.scope.load()
        self.transport.set_handlers(self._on_message, self.link.on_connection)
        self.ha.set_handlers(self._on_ha_state, self._ha_connected)
        self.sync.start()
        await self._start_store_channel()
        if self.api is not None:
            await self.api.start()
        await self.parts.status.read_certificate()
        await self.ha.start()
        self.scope.check_ha()
        for topic in self.topics.home_subscriptions:
            await self.transport.subscribe(topic, 1)
        self._connect_task = asyncio.create_task(self.link.connect_loop(), name="cloud-connect")
        self.ping.start()
        if self.parts.credentials is not None:
            self.parts.credentials.start()
        self._spawn(self._housekeeping(), "housekeeping")

    async def _start_store_channel(self) -> None:
        if self.store_channel is None:
            return
        try:
            await self.store_channel.start()
        except StorageError as err:
            self.errors.report(Part.STORAGE, err.code, f"store channel not started: {err}")
            self.store_channel = None

    async def _housekeeping(self) -> None:
        """Forget expired command ids (they are kept a while past their TTL)."""
        while True:
            try:
                purged = await self.store.purge_commands(self.parts.clock())
            except StorageError as err:
                self.errors.report(Part.STORAGE, err.code, str(err))
            else:
                if purged:
                    _LOGGER.debug("forgot %d expired command ids", purged)
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)

    async def _open_store(self) -> None:
        try:
            await self.store.open()
        except StorageError as err:
            _LOGGER.error("%s; keeping state in memory until restarted", err)  # noqa: TRY400
            self.errors.report(Part.STORAGE, err.code, str(err))
            await self.store.open_in_memory()

    async def stop(self) -> None:
        """Stop everything; what is queued stays in the outbox for the next start."""
        await self.link.stop()
        await self.ping.stop()
        if self.parts.credentials is not None:
            await self.parts.credentials.stop()
        await cancel_and_wait(self._connect_task)
        await self.commands.stop()
        if self.parts.rules is not None:
            await self.parts.rules.stop()
        await self.scope.stop()
        await cancel_and_wait(*self._tasks, ignore_errors=True)
        await self.sync.stop()
        if self.store_channel is not None:
            await self.store_channel.stop()
        if self.api is not None:
            await self.api.stop()
        with contextlib.suppress(TransportError):
            await self.transport.disconnect()
        await self.ha.stop()
        await self.store.close()

    # --- events ---------------------------------------------------------------------

    def _on_ha_state(self, entity_id: str, state: dict[str, Any] | None) -> None:
        self.scope.intake.on_state(entity_id, state)
        if self.parts.rules is not None:
            self.parts.rules.on_state(entity_id, state)

    async def _ha_connected(self) -> None:
        rules = self.parts.rules
        automations = await self.scope.resync_on_connect(is_automation if rules else None)
        if rules is not None:
            self._spawn(self._sync_rules(automations), "rules-sync")

    async def _sync_rules(self, automations: list[dict[str, Any]] | None) -> None:
        """After a (re)connect to HA: the cloud rules as HA now holds them (from the
        automation states the resync read, when it could)."""
        assert self.parts.rules is not None
        try:
            await self.parts.rules.sync_now(automations=automations)
        except (HAError, StorageError) as err:
            _LOGGER.info("could not sync the cloud rules: %s", err)

    def _on_message(self, topic: str, payload: bytes) -> None:
        self.limiter.note_inbound(len(payload))
        self.received[topic] = self.received.get(topic, 0) + 1
        if topic == self.topics.action:
            if self.store_channel is not None and is_nudge(payload, self.config.contract_id):
                self.store_channel.nudge()
                return
            self.commands.on_action(payload)
        elif topic == self.topics.activate_reply:
            self.activation.on_reply(payload)
        elif topic == self.topics.ping_reply:
            self.ping.on_reply(payload)
        else:
            _LOGGER.debug("ignored a message on %s", topic)

    # --- actions (also the local API's BridgeControl) -----------------------------------

    async def resync(self) -> dict[str, Any]:
        """Queue a structure snapshot and every in-scope state (unconditional)."""
        return await self.scope.resync()

    async def refresh_scope(self) -> dict[str, Any]:
        """Reread the registry; send the structure if it changed and states new to the scope."""
        return await self.scope.refresh()

    async def activate(self) -> dict[str, Any]:
        """Activate the instance with the cloud."""
        return await self._activation(ActivationAction.ACTIVATE)

    async def deregister(self) -> dict[str, Any]:
        """Deregister the instance."""
        return await self._activation(ActivationAction.DEREGISTER)

    async def _activation(self, action: ActivationAction) -> dict[str, Any]:
        outcome = await self.activation.run(action)
        if outcome.success:
            self.errors.clear(Part.ACTIVATION)
        else:
            code = outcome.code or "activation_failed"
            self.errors.report(Part.ACTIVATION, code, f"{action.value}: {outcome.reason}")
        return outcome.as_dict()

    async def ping_now(self) -> dict[str, Any]:
        """Ping the cloud now."""
        try:
            rtt = await self.ping.ping()
        except PingError as err:
            return {"ok": False, "reason": str(err), "rtt_ms": None}
        return {"ok": True, "rtt_ms": rtt}

    async def rotate_certificate(self) -> dict[str, Any]:
        """Rotate the device certificate now (the HA button, the API, the CLI)."""
        if self.parts.credentials is None:
            return {"ok": False, "reason": "certificate rotation needs the aws_iot transport"}
        return await self.parts.credentials.rotate_now()

    async def get_exposure(self) -> list[str]:
        """The entities the cloud may command."""
        return await self.store.exposure()

    async def set_exposure(self, entities: list[str]) -> list[str]:
        """Replace the allow-list; the sync scope follows it at once."""
        return await self.scope.set_exposure(entities)

    async def status(self) -> dict[str, Any]:
        """The status document of the local API."""
        return await self.parts.status.build()
