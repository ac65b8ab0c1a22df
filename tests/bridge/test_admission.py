"""protocol/admission.py: every decision about a cloud command, without any I/O."""

from __future__ import annotations

from dataclasses import replace
import json

from cloud_bridge.protocol.action_packets import CommandStatus, action_packet
from cloud_bridge.protocol.admission import (
    AdmissionRules,
    CommandFacts,
    Step,
    admit,
    read_command,
)

RULES = AdmissionRules("C-1", max_ttl=300, clock_skew=5)
NOW = 1_800_000_000.0


def facts(now: float = NOW, **overrides: object) -> CommandFacts:
    packet = action_packet(
        command_id="k1",
        contract_id="C-1",
        service="light.turn_on",
        entity_id="light.a",
        iat=NOW,
        ttl=30,
    )
    return read_command(json.dumps({**packet, **overrides}).encode(), RULES, now=now)


def walk(start: CommandFacts, *, fresh: bool = True, later: float = 0.0) -> list[str]:
    """Answer every step as the handler would; the steps and the final status."""
    seen, current = [], start
    while True:
        decision = admit(current, RULES)
        seen.append(decision.step.value)
        if decision.step is Step.LOAD_EXPOSURE:
            current = replace(current, exposed=frozenset({"light.a"}))
        elif decision.step is Step.REMEMBER:
            assert decision.remember_until == NOW + 30 + 5 + 60
            current = replace(current, fresh=fresh)
        elif decision.step is Step.ACCEPT:
            current = replace(current, accepted=True, now=current.now + later)
        else:
            if decision.status is not None:
                seen.append(decision.status.value)
            return seen


def test_an_admitted_command_goes_through_every_check() -> None:
    assert walk(facts()) == ["load_exposure", "remember", "accept", "run"]


def test_a_duplicate_is_reported_as_such() -> None:
    assert walk(facts(), fresh=False)[-2:] == ["report", "duplicate"]


def test_a_result_held_past_the_ttl_stops_the_command() -> None:
    assert walk(facts(), later=60)[-3:] == ["accept", "report", "expired"]


def test_endings_before_any_io() -> None:
    other = admit(facts(cid="C-2"), RULES)
    assert (other.step, other.outcome) == (Step.IGNORE, "other_contract")
    no_id = admit(read_command(b"not json", RULES, now=NOW), RULES)
    assert no_id.step is Step.DROP
    bad = admit(facts(ttl="soon"), RULES)
    assert (bad.step, bad.status) == (Step.REPORT, CommandStatus.REJECTED)


def test_exposure_ttl_future_and_storage_rejections() -> None:
    loaded = replace(facts(), exposed=frozenset())
    assert "not exposed" in str(admit(loaded, RULES).reason)
    forbidden = replace(facts(service="shell_command.x"), exposed=frozenset({"light.a"}))
    assert "never allowed" in str(admit(forbidden, RULES).reason)
    exposed = frozenset({"light.a"})
    late = replace(facts(now=NOW + 36), exposed=exposed)
    assert admit(late, RULES).status is CommandStatus.EXPIRED
    assert admit(replace(facts(now=NOW + 35), exposed=exposed), RULES).step is Step.REMEMBER
    future = replace(facts(now=NOW - 306), exposed=exposed)
    assert admit(future, RULES).reason == "iat lies in the future"
    broken = replace(facts(), exposed=exposed, dedup_failure="disk gone")
    decision = admit(broken, RULES)
    assert (decision.status, decision.reason) == (
        CommandStatus.REJECTED,
        "storage unavailable: disk gone",
    )
