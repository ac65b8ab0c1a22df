"""Admission of a cloud command, as a pure state machine (no I/O, no clock of its own).

`admit(facts, rules)` looks at what is known about one command so far and returns the
next `Decision`: a step the caller must take (read the exposure list, ask the store
whether the id is new, send `accepted`, run the call) or a final outcome (ignore, drop,
or report a result with its reason). The caller performs the step, adds what it learnt
to the facts with `dataclasses.replace` (and a fresh `now`), and asks again:

    facts = read_command(payload, rules, now=clock())
    while (decision := admit(facts, rules)).step is not Step.RUN: ...

The checks, in order: the contract, the packet (parse_command, or parse_rule_command for
a rule command), exposure and forbidden services (the command's `check_exposure`), the
time-to-live, an `iat` in the future, de-duplication by command id, and after `accepted`
was sent a re-check of the TTL (a result held up by the rate limiter must never make a
command run late). Every channel that takes commands
(the MQTT action topic, a store channel) shares this one function.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
import json

from cloud_bridge.protocol.action_packets import (
    DEFAULT_MAX_TTL,
    Command,
    CommandError,
    CommandStatus,
    load_packet,
    parse_command,
)
from cloud_bridge.protocol.rule_packets import RuleCommand, is_rule_packet, parse_rule_command

type AnyCommand = Command | RuleCommand

# keep ids a little longer than they can be valid, so a late duplicate is still "duplicate"
DEDUP_MARGIN = 60.0


@dataclass(frozen=True, slots=True)
class AdmissionRules:
    """The bridge's settings that admission depends on."""

    contract_id: str
    max_ttl: float = DEFAULT_MAX_TTL
    clock_skew: float = 5.0


@dataclass(frozen=True, slots=True)
class CommandFacts:
    """What is known about one command so far; `None` means "not asked yet"."""

    now: float
    command: AnyCommand | None = None
    error: CommandError | None = None
    peeked_cid: str | None = None  # the packet's `cid` when readable before validation
    exposed: Collection[str] | None = None  # the allow-list, once read
    fresh: bool | None = None  # the store's answer to "is this id new?"
    dedup_failure: str | None = None  # the store could not answer
    accepted: bool = False  # `accepted` has been sent (`now` is read after it)


class Step(StrEnum):
    """What the caller does next."""

    IGNORE = "ignore"  # not for this contract: no result, nothing else
    DROP = "drop"  # malformed and without an id: nobody to answer
    REPORT = "report"  # send the final result `status` with `reason`, then stop
    LOAD_EXPOSURE = "load_exposure"  # read the allow-list into `exposed`
    REMEMBER = "remember"  # store the id until `remember_until`; its answer -> `fresh`
    ACCEPT = "accept"  # send `accepted`, then set `accepted` (and a new `now`)
    RUN = "run"  # admitted: call Home Assistant


@dataclass(frozen=True, slots=True)
class Decision:
    """The next step, and for a final one its result status, reason and counter."""

    step: Step
    reason: str | None = None
    status: CommandStatus | None = None
    outcome: str | None = None  # the name the handler counts this ending under
    remember_until: float | None = None


def read_command(payload: bytes, rules: AdmissionRules, *, now: float) -> CommandFacts:
    """The first facts about an action packet: its peeked contract and the parse result."""
    peeked = _peek_contract(payload)
    try:
        obj = load_packet(payload)
        command: AnyCommand = (
            parse_rule_command(obj, rules.max_ttl)
            if is_rule_packet(obj)
            else parse_command(obj, rules.max_ttl)
        )
    except CommandError as err:
        return CommandFacts(now=now, error=err, peeked_cid=peeked)
    return CommandFacts(now=now, command=command, peeked_cid=peeked)


def admit(facts: CommandFacts, rules: AdmissionRules) -> Decision:
    """The next step for a command, given what is known about it (pure)."""
    if facts.peeked_cid is not None and facts.peeked_cid != rules.contract_id:
        return _ignore(facts.peeked_cid)
    command = facts.command
    if command is None:
        error = facts.error or CommandError("no command")
        if error.command_id is None:
            return Decision(Step.DROP, error.reason, outcome="dropped")
        return _final(CommandStatus.REJECTED, error.reason)
    if command.cid != rules.contract_id:
        return _ignore(command.cid)
    if facts.accepted:
        return _recheck(command, facts.now, rules)
    if facts.exposed is None:
        return Decision(Step.LOAD_EXPOSURE)
    return _before_accepting(command, facts, rules)


def _before_accepting(command: AnyCommand, facts: CommandFacts, rules: AdmissionRules) -> Decision:
    exposure = command.check_exposure(facts.exposed or ())
    if not exposure.allowed:
        return _final(CommandStatus.REJECTED, exposure.reason)
    if command.is_expired(facts.now, rules.clock_skew):
        return _final(CommandStatus.EXPIRED, expired_reason(command, facts.now))
    if command.iat > facts.now + rules.clock_skew + rules.max_ttl:
        return _final(CommandStatus.REJECTED, "iat lies in the future")
    if facts.dedup_failure is not None:
        # without durable de-duplication a retried command could run twice
        return _final(CommandStatus.REJECTED, f"storage unavailable: {facts.dedup_failure}")
    if facts.fresh is None:
        until = command.expires_at + rules.clock_skew + DEDUP_MARGIN
        return Decision(Step.REMEMBER, remember_until=until)
    if not facts.fresh:
        return _final(CommandStatus.DUPLICATE, "already received")
    return Decision(Step.ACCEPT)


def _recheck(command: AnyCommand, now: float, rules: AdmissionRules) -> Decision:
    if command.is_expired(now, rules.clock_skew):
        # the accepted result waited for the rate limiter past the TTL: never run late
        return _final(CommandStatus.EXPIRED, expired_reason(command, now))
    return Decision(Step.RUN)


def expired_reason(command: AnyCommand, now: float) -> str:
    """Why an expired command was not run, with how late it is."""
    late = now - command.expires_at
    return f"expired {late:.1f} s ago (iat {command.iat:.1f} + ttl {command.ttl:g} s)"


def _final(status: CommandStatus, reason: str) -> Decision:
    return Decision(Step.REPORT, reason, status, outcome=status.value)


def _ignore(cid: str) -> Decision:
    return Decision(
        Step.IGNORE, f"a command for another contract ({cid})", outcome="other_contract"
    )


def _peek_contract(payload: bytes) -> str | None:
    """The `cid` of a packet when it is readable, before full validation."""
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if isinstance(obj, dict) and isinstance(obj.get("cid"), str):
        return str(obj["cid"])
    return None
