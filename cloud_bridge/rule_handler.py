"""Rule commands (interactions, schedules) run against Home Assistant.

An admitted RuleCommand (protocol/rule_packets.py, through the same admission as every
command) is carried out here: the rule becomes an automation config under our prefix
(protocol/rule_automation.py); before it is saved the InspeXtor integration's analysis
checks it against the home's automations (`inspextor.check_rule`, response data), and a
finding refuses it naming the automation it collides with, unless the command says
`force`. Saving goes through HA's config API (ha/automations.py); enabling through
`automation.turn_on/turn_off`. After every change, and when HA changes one of our
automations (its entity's state changes), the list of cloud rules is synced in the
structure lane as a `rules` record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import logging
from typing import Any

from cloud_bridge.ha.automations import AutomationConfigs
from cloud_bridge.ha.base import HAError, HomeAssistantAPI
from cloud_bridge.protocol.action_packets import CommandStatus
from cloud_bridge.protocol.rule_automation import (
    automation_id,
    from_automation,
    rule_id_of,
    to_automation,
)
from cloud_bridge.protocol.rule_packets import RuleCommand, RuleOp
from cloud_bridge.tasks import cancel_and_wait

type JSONDict = dict[str, Any]
type RulesSink = Callable[[list[JSONDict]], Awaitable[None]]
# reads a user automation's config by entity id (HAWebSocketClient.automation_config)
type ConfigReader = Callable[[str], Awaitable[JSONDict | None]]

_LOGGER = logging.getLogger(__name__)
CHECK_DOMAIN, CHECK_SERVICE = "inspextor", "check_rule"
MAX_CLOUD_RULES = 20
SETTLE_TIMEOUT = 15.0
SETTLE_POLL = 0.2
SYNC_DEBOUNCE = 1.0


@dataclass(slots=True)
class RuleOutcome:
    """How a rule command ended: the final status, its reason, what the cloud is shown."""

    status: CommandStatus
    reason: str | None = None
    rule: JSONDict | None = None
    rules: list[JSONDict] | None = None
    findings: list[JSONDict] = field(default_factory=list)

    def extra(self) -> JSONDict:
        """The fields a rule result adds to the result packet."""
        out: JSONDict = {}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.rules is not None:
            out["rules"] = self.rules
        if self.findings:
            out["findings"] = self.findings
        return out


def collision_reason(findings: list[JSONDict]) -> str:
    """`conflicts with "Close the shade" on cover.bedroom_shade (certain)`, for each."""
    parts = []
    for finding in findings:
        names = ", ".join(f'"{other}"' for other in finding.get("others") or ()) or "itself"
        kind = str(finding.get("kind", "conflict"))
        verb = {"conflict": "conflicts with", "loop": "loops with"}.get(kind, f"{kind}:")
        parts.append(
            f"{verb} {names} on {finding.get('entity')} ({finding.get('severity', 'possible')})"
        )
    return "; ".join(parts)


class RuleHandler:
    """Carries out rule commands and keeps the cloud's list of rules up to date."""

    def __init__(
        self,
        ha: HomeAssistantAPI,
        configs: AutomationConfigs,
        sink: RulesSink,
        *,
        check_timeout: float = 30.0,
        settle_timeout: float = SETTLE_TIMEOUT,
        user_rules: ConfigReader | None = None,
    ) -> None:
        self.ha = ha
        self.user_rules = user_rules
        self.configs = configs
        self._sink = sink
        self.check_timeout = check_timeout
        self.settle_timeout = settle_timeout
        self._last_synced: list[JSONDict] | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()  # one change at a time: check, then save, then read
        self.syncs = 0

    async def run(self, command: RuleCommand) -> RuleOutcome:
        """Carry out an admitted rule command; HA errors become `failed` with the reason."""
        try:
            if command.op is RuleOp.LIST:
                outcome = await self._run(command)
            else:
                async with self._writing:  # the limit and the conflict check see the last save
                    outcome = await self._run(command)
        except HAError as err:
            return RuleOutcome(CommandStatus.FAILED, str(err))
        if command.op is not RuleOp.LIST and outcome.status is CommandStatus.SUCCEEDED:
            await self.sync_now()
        return outcome

    async def _run(self, command: RuleCommand) -> RuleOutcome:
        if command.op is RuleOp.LIST:
            return RuleOutcome(CommandStatus.SUCCEEDED, rules=await self.list_rules())
        assert command.rule_id is not None
        config_id = automation_id(command.rule_id)
        existing = await self.configs.get(config_id)
        if command.op is RuleOp.CREATE and existing is not None:
            return RuleOutcome(
                CommandStatus.REJECTED, f"cloud rule {command.rule_id} exists (use update)"
            )
        if command.op is not RuleOp.CREATE and existing is None:
            return RuleOutcome(CommandStatus.FAILED, f"no cloud rule {command.rule_id}")
        if command.op in {RuleOp.CREATE, RuleOp.UPDATE}:
            return await self._save(command, config_id)
        if command.op is RuleOp.DELETE:
            await self.configs.delete(config_id)
            await self._settle(config_id, present=False)
            return RuleOutcome(CommandStatus.SUCCEEDED, rule={"rule_id": command.rule_id})
        return await self._switch(command, config_id)

    async def _save(self, command: RuleCommand, config_id: str) -> RuleOutcome:
        assert command.rule is not None
        if command.op is RuleOp.CREATE and len(await self._owned_states()) >= MAX_CLOUD_RULES:
            return RuleOutcome(
                CommandStatus.REJECTED, f"too many cloud rules: at most {MAX_CLOUD_RULES}"
            )
        config = to_automation(command.rule)
        findings = await self.check(config)
        if findings and not command.force:
            reason = collision_reason(findings)
            return RuleOutcome(CommandStatus.REJECTED, reason, findings=findings)
        await self.configs.save(config_id, config)
        state = await self._settle(config_id, present=True)
        saved = await self.describe(config_id, state)
        return RuleOutcome(CommandStatus.SUCCEEDED, rule=saved, findings=findings)

    async def check(self, config: JSONDict) -> list[JSONDict]:
        """The integration's findings for a candidate automation (conflicts, loops)."""
        try:
            result = await self.ha.call_service(
                CHECK_DOMAIN,
                CHECK_SERVICE,
                {"candidate": config},
                {},
                return_response=True,
                timeout=self.check_timeout,
            )
        except HAError as err:
            raise HAError(f"cannot check the rule for conflicts: {err}", err.code) from err
        response = (result or {}).get("response") or {}
        findings = response.get("findings") if isinstance(response, dict) else None
        return [f for f in findings or () if isinstance(f, dict)]

    async def _switch(self, command: RuleCommand, config_id: str) -> RuleOutcome:
        state = await self._settle(config_id, present=True)
        if state is None:
            return RuleOutcome(CommandStatus.FAILED, f"{config_id} has no automation entity")
        service = "turn_on" if command.op is RuleOp.ENABLE else "turn_off"
        entity_id = state["entity_id"]
        await self.ha.call_service("automation", service, {}, {"entity_id": entity_id})
        want = "on" if command.op is RuleOp.ENABLE else "off"
        state = await self._settle(config_id, present=True, want=want)
        return RuleOutcome(CommandStatus.SUCCEEDED, rule=await self.describe(config_id, state))

    async def _automations(self) -> list[JSONDict]:
        """HA's automation states (a large home's other states are dropped once read)."""
        return [state for state in await self.ha.get_states() if is_automation(state)]

    async def _owned_states(self, automations: list[JSONDict] | None = None) -> dict[str, JSONDict]:
        """Our automations' entity states by config id."""
        out: dict[str, JSONDict] = {}
        for state in automations if automations is not None else await self._automations():
            entity_id = str(state.get("entity_id", ""))
            config_id = (state.get("attributes") or {}).get("id")
            if entity_id.startswith("automation.") and rule_id_of(config_id):
                out[str(config_id)] = state
        return out

    async def _settle(
        self, config_id: str, *, present: bool, want: str | None = None
    ) -> JSONDict | None:
        """Poll until HA shows (or no longer shows) the automation; its state or None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        while True:
            state = (await self._owned_states()).get(config_id)
            done = (state is not None) == present and (want is None or _state(state) == want)
            if done or loop.time() >= deadline:
                return state
            await asyncio.sleep(SETTLE_POLL)

    async def describe(self, config_id: str, state: JSONDict | None) -> JSONDict:
        """A cloud rule as the home now holds it (our form, or read-only when HA changed it
        beyond what the form expresses)."""
        config = await self.configs.get(config_id) or {}
        rule = from_automation(config)
        return {
            "rule_id": rule_id_of(config_id),
            "rule": rule.form if rule else None,
            "editable": rule is not None,
            "alias": config.get("alias"),
            "entity_id": state.get("entity_id") if state else None,
            "enabled": _state(state) == "on",
            "last_triggered": (state or {}).get("attributes", {}).get("last_triggered"),
        }

    async def list_rules(self, automations: list[JSONDict] | None = None) -> list[JSONDict]:
        """Every cloud rule as the home holds it, by rule id."""
        owned = await self._owned_states(automations)
        return [await self.describe(cid, owned[cid]) for cid in sorted(owned)]

    async def list_user_rules(self, automations: list[JSONDict] | None = None) -> list[JSONDict]:
        """The user's own automations, read-only, when the option exposes them (else [])."""
        if self.user_rules is None:
            return []
        out = []
        for state in automations if automations is not None else await self._automations():
            entity_id = str(state.get("entity_id", ""))
            attributes = state.get("attributes") or {}
            if not entity_id.startswith("automation.") or rule_id_of(attributes.get("id")):
                continue
            config = await self.user_rules(entity_id) or {}
            out.append(
                {
                    "rule_id": None,
                    "owner": "user",
                    "read_only": True,
                    "alias": config.get("alias") or attributes.get("friendly_name"),
                    "entity_id": entity_id,
                    "enabled": _state(state) == "on",
                    "rule": user_form(config),
                }
            )
        return sorted(out, key=lambda rule: str(rule["entity_id"]))

    # --- sync ---------------------------------------------------------------------

    def on_state(self, entity_id: str, state: JSONDict | None) -> None:
        """A state change from HA: one of our automations changing is synced (debounced)."""
        if not entity_id.startswith("automation."):
            return
        ours = state is None or rule_id_of((state.get("attributes") or {}).get("id"))
        if not ours and self.user_rules is None:
            return
        if self._sync_task is None or self._sync_task.done():
            self._sync_task = asyncio.create_task(self._sync_later(), name="rules-sync")

    async def _sync_later(self) -> None:
        await asyncio.sleep(SYNC_DEBOUNCE)
        try:
            await self.sync_now()
        except HAError as err:
            _LOGGER.info("could not read the cloud rules: %s", err)

    async def sync_now(
        self, *, force: bool = False, automations: list[JSONDict] | None = None
    ) -> None:
        """Send the list of cloud rules when it differs from the last one sent, from HA's
        automation states (read now unless given)."""
        if automations is None:
            automations = await self._automations()  # one read of HA's states for both lists
        listed = await self.list_rules(automations) + await self.list_user_rules(automations)
        rules = [{k: v for k, v in r.items() if k != "last_triggered"} for r in listed]
        if not force and rules == self._last_synced:
            return
        await self._sink(rules)
        self._last_synced = rules
        self.syncs += 1

    async def stop(self) -> None:
        """Cancel a pending sync."""
        await cancel_and_wait(self._sync_task, ignore_errors=True)


def is_automation(state: JSONDict) -> bool:
    """An automation entity's state."""
    return str(state.get("entity_id", "")).startswith("automation.")


def user_form(config: JSONDict) -> JSONDict | None:
    """A user automation in our form when it fits it (read-only), else None."""
    rule = from_automation({**config, "id": automation_id("user")})
    return None if rule is None else {**rule.form, "rule_id": None}


def _state(state: JSONDict | None) -> str | None:
    return None if state is None else state.get("state")
