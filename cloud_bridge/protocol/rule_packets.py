"""Rule commands of contract 1 on `inx/<cid>/action` (pure).

    {"c": "Command", "a": "rule", "id", "cid", "iat", "ttl", "origin",
     "op": "list" | "create" | "update" | "delete" | "enable" | "disable",
     "rule": {...our form...},      # create, update
     "rule_id": "morning_shade",    # delete, enable, disable
     "force": false}                # create, update: save despite a conflict finding

The envelope (id, iat, ttl, origin) is the one of `call_service` commands and goes
through the same admission (protocol/admission.py): exposure, TTL, de-duplication.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cloud_bridge.protocol.action_packets import (
    DEFAULT_MAX_TTL,
    CommandError,
    Expiring,
    load_packet,
    parse_envelope,
)
from cloud_bridge.protocol.exposure import ExposureDecision
from cloud_bridge.protocol.rules import RULE_ID_RE, Rule, RuleError, exposure_problem, parse_rule

type JSONDict = dict[str, Any]

RULE_ACTION = "rule"


class RuleOp(StrEnum):
    """What a rule command asks for."""

    LIST = "list"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ENABLE = "enable"
    DISABLE = "disable"


WITH_RULE = frozenset({RuleOp.CREATE, RuleOp.UPDATE})


@dataclass(frozen=True, slots=True)
class RuleCommand(Expiring):
    """A validated rule command; `rule` for create/update, `rule_id` for all but list."""

    id: str
    cid: str
    iat: float
    ttl: float
    origin: str
    op: RuleOp
    rule_id: str | None = None
    rule: Rule | None = None
    force: bool = False

    def check_exposure(self, exposed: Collection[str]) -> ExposureDecision:
        """Every entity of the rule on the exposure list, every service of its target."""
        if self.rule is None:
            return ExposureDecision(True, "no entities")
        problem = exposure_problem(self.rule, exposed)
        return ExposureDecision(problem is None, problem or "exposed")


def is_rule_packet(obj: object) -> bool:
    """True for a JSON object whose `a` is `rule` (peeked before validation)."""
    return isinstance(obj, dict) and obj.get("a") == RULE_ACTION


def parse_rule_command(
    packet: bytes | str | object, max_ttl: float = DEFAULT_MAX_TTL
) -> RuleCommand:
    """Validate a rule command; raises CommandError with the exact reason."""
    obj = load_packet(packet)
    env = parse_envelope(obj, RULE_ACTION, max_ttl)
    try:
        op = RuleOp(str(obj.get("op")))
    except ValueError:
        raise CommandError(f"op must be one of {', '.join(RuleOp)}", env.id) from None
    force = obj.get("force", False)
    if not isinstance(force, bool):
        raise CommandError("force must be true or false", env.id)
    rule_id = obj.get("rule_id")
    try:
        rule = parse_rule(obj.get("rule")) if op in WITH_RULE else None
    except RuleError as err:
        raise CommandError(str(err), env.id) from None
    if rule is not None:
        rule_id = rule.rule_id
    elif op is not RuleOp.LIST and (not isinstance(rule_id, str) or not RULE_ID_RE.match(rule_id)):
        raise CommandError("rule_id must name a cloud rule (a-z, 0-9 and _)", env.id)
    return RuleCommand(
        id=env.id,
        cid=env.cid,
        iat=env.iat,
        ttl=env.ttl,
        origin=env.origin,
        op=op,
        rule_id=rule_id if isinstance(rule_id, str) else None,
        rule=rule,
        force=force,
    )


def rule_packet(
    *,
    command_id: str,
    contract_id: str,
    op: str,
    iat: float,
    rule: JSONDict | None = None,
    rule_id: str | None = None,
    force: bool = False,
    ttl: float = 30.0,
    origin: str = "cloud_ui",
) -> JSONDict:
    """A rule command as the cloud sends it (what `parse_rule_command` reads)."""
    packet: JSONDict = {
        "c": "Command",
        "a": RULE_ACTION,
        "id": command_id,
        "cid": contract_id,
        "iat": iat,
        "ttl": ttl,
        "origin": origin,
        "op": op,
    }
    if rule is not None:
        packet["rule"] = rule
    if rule_id is not None:
        packet["rule_id"] = rule_id
    if force:
        packet["force"] = True
    return packet
