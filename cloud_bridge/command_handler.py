"""Commands from the cloud: validate, check exposure, TTL and duplicates, call HA, report.

Results go to `inx/instance/return`: `accepted` -> (`in_progress` for covers) ->
`succeeded`/`failed`, or a single `rejected`/`expired`/`duplicate`. A command is never
executed after its time-to-live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
import logging
import time
from typing import Any

from cloud_bridge.ha.base import HAError, HomeAssistantAPI
from cloud_bridge.protocol.action_packets import (
    Command,
    CommandError,
    CommandStatus,
    parse_command,
    result_packet,
)
from cloud_bridge.protocol.exposure import decide
from cloud_bridge.protocol.packets import encode
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.ratelimit import Priority
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.sync import SendFunc
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)
MOVING_STATES = frozenset({"opening", "closing"})
# how long a cover may take to start moving before we take its state as final
COVER_START_GRACE = 2.0
COVER_POLL = 0.25
# keep ids a little longer than they can be valid, so a late duplicate is still "duplicate"
DEDUP_MARGIN = 60.0


class CommandHandler:
    """Handles every message on `inx/<cid>/action`."""

    def __init__(
        self,
        store: Store,
        ha: HomeAssistantAPI,
        topics: Topics,
        *,
        contract_id: str,
        instance_id: str,
        send: SendFunc,
        max_ttl: float = 300.0,
        clock_skew: float = 5.0,
        cover_timeout: float = 90.0,
        service_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.ha = ha
        self.topics = topics
        self.contract_id = contract_id
        self.instance_id = instance_id
        self._send = send
        self.max_ttl = max_ttl
        self.clock_skew = clock_skew
        self.cover_timeout = cover_timeout
        self.service_timeout = service_timeout
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self.handled: dict[str, int] = {}

    def on_action(self, payload: bytes) -> None:
        """Start handling a command without blocking the message callback."""
        task = asyncio.create_task(self.handle(payload), name="command")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        """Wait for the commands in progress (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the commands in progress."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _count(self, outcome: str) -> None:
        self.handled[outcome] = self.handled.get(outcome, 0) + 1

    async def handle(self, payload: bytes) -> None:
        """The whole pipeline for one action packet; never raises."""
        try:
            await self._handle(payload)
        except TransportError as err:
            _LOGGER.warning("could not publish a command result: %s", err)
        except Exception:
            _LOGGER.exception("unexpected error while handling a command")

    async def _handle(self, payload: bytes) -> None:
        raw_cid = _peek_contract(payload)
        if raw_cid is not None and raw_cid != self.contract_id:
            _LOGGER.warning("ignored a command for another contract (%s)", raw_cid)
            self._count("other_contract")
            return
        try:
            command = parse_command(payload, self.max_ttl)
        except CommandError as err:
            if err.command_id is None:
                _LOGGER.warning("dropped a malformed command without an id: %s", err.reason)
                self._count("dropped")
                return
            _LOGGER.warning("rejected command %s: %s", err.command_id, err.reason)
            self._count("rejected")
            await self._result(err.command_id, CommandStatus.REJECTED, err.reason)
            return
        if command.cid != self.contract_id:
            _LOGGER.warning("ignored a command for another contract (%s)", command.cid)
            self._count("other_contract")
            return
        await self._execute(command)

    async def _execute(self, command: Command) -> None:
        exposed = await self.store.exposure()
        decision = decide(command.service, command.entity_id, exposed)
        if not decision.allowed:
            _LOGGER.warning("rejected command %s: %s", command.id, decision.reason)
            self._count("rejected")
            await self._result(command.id, CommandStatus.REJECTED, decision.reason)
            return
        if command.is_expired(self.clock(), self.clock_skew):
            self._count("expired")
            await self._result(command.id, CommandStatus.EXPIRED, self._expired_reason(command))
            return
        if command.iat > self.clock() + self.clock_skew + self.max_ttl:
            self._count("rejected")
            await self._result(command.id, CommandStatus.REJECTED, "iat lies in the future")
            return
        try:
            fresh = await self.store.remember_command(
                command.id, command.expires_at + self.clock_skew + DEDUP_MARGIN
            )
        except StorageError as err:
            # without durable de-duplication a retried command could run twice
            self._count("rejected")
            await self._result(command.id, CommandStatus.REJECTED, f"storage unavailable: {err}")
            return
        if not fresh:
            self._count("duplicate")
            await self._result(command.id, CommandStatus.DUPLICATE, "already received")
            return
        await self._result(command.id, CommandStatus.ACCEPTED, None)
        if command.is_expired(self.clock(), self.clock_skew):
            # the accepted result waited for the rate limiter past the TTL: never run late
            self._count("expired")
            await self._result(command.id, CommandStatus.EXPIRED, self._expired_reason(command))
            return
        if reason := await self._not_runnable(command.entity_id):
            self._count("failed")
            await self._result(command.id, CommandStatus.FAILED, reason, None)
            return
        try:
            await self.ha.call_service(
                command.domain,
                command.service_name,
                command.data,
                {"entity_id": command.entity_id},
                timeout=self.service_timeout,
            )
        except HAError as err:
            self._count("failed")
            state = await self._observe(command.entity_id)
            await self._result(command.id, CommandStatus.FAILED, str(err), state)
            return
        if command.domain == "cover":
            await self._follow_cover(command)
            return
        self._count("succeeded")
        state = await self._observe(command.entity_id)
        await self._result(command.id, CommandStatus.SUCCEEDED, None, state)

    async def _not_runnable(self, entity_id: str) -> str | None:
        """Why HA would not run a call on this entity, or None.

        HA skips unavailable entities in entity services without an error, so without
        this check the cloud would be told `succeeded` for a command nothing executed.
        """
        try:
            state = await self.ha.get_state(entity_id)
        except HAError:
            return None  # HA unreachable: the service call will fail with the real reason
        if state is None:
            return f"{entity_id} does not exist in Home Assistant"
        if state.get("state") == "unavailable":
            return f"{entity_id} is unavailable (the device is offline or not responding)"
        return None

    def _expired_reason(self, command: Command) -> str:
        late = self.clock() - command.expires_at
        return f"expired {late:.1f} s ago (iat {command.iat:.1f} + ttl {command.ttl:g} s)"

    async def _follow_cover(self, command: Command) -> None:
        """Report `in_progress`, then the final state once the cover stops moving."""
        state = await self._observe(command.entity_id)
        await self._result(command.id, CommandStatus.IN_PROGRESS, None, state)
        loop = asyncio.get_running_loop()
        started = loop.time()
        seen_moving = state is not None and state.get("state") in MOVING_STATES
        while True:
            moving = state is not None and state.get("state") in MOVING_STATES
            seen_moving = seen_moving or moving
            elapsed = loop.time() - started
            if not moving and (seen_moving or elapsed >= COVER_START_GRACE):
                self._count("succeeded")
                await self._result(command.id, CommandStatus.SUCCEEDED, None, state)
                return
            if elapsed >= self.cover_timeout:
                self._count("failed")
                reason = f"the cover did not stop within {self.cover_timeout:g} s"
                await self._result(command.id, CommandStatus.FAILED, reason, state)
                return
            await asyncio.sleep(COVER_POLL)
            state = await self._observe(command.entity_id)

    async def _observe(self, entity_id: str) -> dict[str, Any] | None:
        try:
            return await self.ha.get_state(entity_id)
        except HAError as err:
            _LOGGER.info("could not read the state of %s: %s", entity_id, err)
            return None

    async def _result(
        self,
        command_id: str,
        status: CommandStatus,
        reason: str | None,
        state: dict[str, Any] | None = None,
    ) -> None:
        packet = result_packet(
            command_id=command_id,
            contract_id=self.contract_id,
            instance_id=self.instance_id,
            status=status,
            ts=time.time(),
            reason=reason,
            state=state,
        )
        await self._send(self.topics.result, encode(packet), Priority.CONTROL)


def _peek_contract(payload: bytes) -> str | None:
    """The `cid` of a packet when it is readable, before full validation."""
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and isinstance(obj.get("cid"), str):
        return str(obj["cid"])
    return None
