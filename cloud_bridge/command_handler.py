"""Commands from the cloud: the I/O around admission (protocol/admission.py), HA, results.

Results go to `inx/instance/return`: `accepted` -> (`in_progress` for covers) ->
`succeeded`/`failed`, or a single `rejected`/`expired`/`duplicate`. A command is never
executed after its time-to-live.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
import logging
from typing import Any

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.ha.base import HAError, HomeAssistantAPI
from cloud_bridge.protocol.action_packets import Command, CommandStatus, result_packet
from cloud_bridge.protocol.admission import (
    AdmissionRules,
    CommandFacts,
    Decision,
    Step,
    admit,
    read_command,
)
from cloud_bridge.protocol.packets import encode
from cloud_bridge.protocol.rule_packets import RuleCommand
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.ratelimit import Priority
from cloud_bridge.rule_handler import RuleHandler
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.sync import SendFunc
from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)
MOVING_STATES = frozenset({"opening", "closing"})
# how long a cover may take to start moving before we take its state as final
COVER_START_GRACE = 2.0
COVER_POLL = 0.25


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
        clock: Clock = SYSTEM_CLOCK,
        rules: RuleHandler | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.ha = ha
        self.topics = topics
        self.contract_id = contract_id
        self.instance_id = instance_id
        self._send = send
        self.admission = AdmissionRules(contract_id, max_ttl, clock_skew)
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
        await cancel_and_wait(*self._tasks, ignore_errors=True)

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
        command = await self._admit(payload)
        if command is not None:
            await self._run(command)

    async def _admit(self, payload: bytes) -> Command | RuleCommand | None:
        """Do the I/O `admit` asks for until it admits the command (returned) or ends it."""
        facts = read_command(payload, self.admission, now=self.clock())
        while True:
            decision = admit(facts, self.admission)
            step = decision.step
            if step is Step.RUN:
                return facts.command
            if step is Step.LOAD_EXPOSURE:
                exposed = frozenset(await self.store.exposure())
                facts = replace(facts, exposed=exposed, now=self.clock())
            elif step is Step.REMEMBER:
                facts = await self._remember(facts, decision)
            elif step is Step.ACCEPT:
                assert facts.command is not None
                await self._result(facts.command.id, CommandStatus.ACCEPTED, None)
                facts = replace(facts, accepted=True, now=self.clock())
            else:
                await self._end(facts, decision)
                return None

    async def _remember(self, facts: CommandFacts, decision: Decision) -> CommandFacts:
        assert facts.command is not None
        assert decision.remember_until is not None
        try:
            fresh = await self.store.remember_command(facts.command.id, decision.remember_until)
        except StorageError as err:
            return replace(facts, dedup_failure=str(err), now=self.clock())
        return replace(facts, fresh=fresh, now=self.clock())

    async def _end(self, facts: CommandFacts, decision: Decision) -> None:
        """A command that will not run: count it, say why, answer unless nobody can be."""
        self._count(decision.outcome or decision.step.value)
        command_id = facts.command.id if facts.command else (facts.error and facts.error.command_id)
        if decision.step is not Step.REPORT or decision.status is None or not command_id:
            _LOGGER.warning("dropped a command: %s", decision.reason)
            return
        if decision.status is CommandStatus.REJECTED:
            _LOGGER.warning("rejected command %s: %s", command_id, decision.reason)
        await self._result(command_id, decision.status, decision.reason)

    async def _run(self, command: Command | RuleCommand) -> None:
        """Call Home Assistant for an admitted command and report how it went."""
        if isinstance(command, RuleCommand):
            await self._run_rule(command)
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

    async def _run_rule(self, command: RuleCommand) -> None:
        """Carry out a rule command (rule_handler.py); its result carries the rule."""
        if self.rules is None:
            self._count("failed")
            await self._result(command.id, CommandStatus.FAILED, "rules are not available here")
            return
        outcome = await self.rules.run(command)
        self._count(outcome.status.value)
        if outcome.status is CommandStatus.REJECTED:
            _LOGGER.warning("rejected rule command %s: %s", command.id, outcome.reason)
        await self._result(command.id, outcome.status, outcome.reason, extra=outcome.extra())

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
        *,
        extra: dict[str, Any] | None = None,
    ) -> None:
        packet = result_packet(
            command_id=command_id,
            contract_id=self.contract_id,
            instance_id=self.instance_id,
            status=status,
            ts=self.clock(),
            reason=reason,
            state=state,
        )
        await self._send(self.topics.result, encode({**packet, **(extra or {})}), Priority.CONTROL)
