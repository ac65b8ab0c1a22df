"""The rule form: validation reasons, exposure, translation to and from HA automations."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from cloud_bridge.protocol.action_packets import CommandError
from cloud_bridge.protocol.admission import AdmissionRules, CommandFacts, Step, admit, read_command
from cloud_bridge.protocol.rule_automation import (
    AUTOMATION_PREFIX,
    from_automation,
    rule_id_of,
    to_automation,
)
from cloud_bridge.protocol.rule_packets import RuleOp, parse_rule_command, rule_packet
from cloud_bridge.protocol.rules import MAX_ACTIONS, RuleError, exposure_problem, parse_rule

EXPOSED = frozenset({"cover.bedroom_shade", "light.kitchen", "binary_sensor.hall_motion"})


def schedule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "rule_id": "morning_shade",
        "kind": "schedule",
        "name": "Open the bedroom shade",
        "trigger": {"type": "time", "at": "07:00", "weekdays": ["fri", "mon"]},
        "conditions": [{"type": "state", "entity_id": "light.kitchen", "state": "off"}],
        "actions": [{"service": "cover.open_cover", "entity_id": "cover.bedroom_shade"}],
    }
    rule.update(overrides)
    return rule


def interaction(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "rule_id": "hall_light",
        "kind": "interaction",
        "name": "Hall motion turns the kitchen light on",
        "trigger": {"type": "state", "entity_id": "binary_sensor.hall_motion", "to": "on"},
        "conditions": [{"type": "sun", "after": "sunset"}],
        "actions": [
            {"service": "light.turn_on", "entity_id": "light.kitchen", "data": {"brightness": 200}},
            {"delay": 300},
            {"service": "light.turn_off", "entity_id": "light.kitchen"},
        ],
    }
    rule.update(overrides)
    return rule


def test_a_schedule_becomes_an_automation_under_our_prefix_and_reads_back() -> None:
    rule = parse_rule(schedule())
    config = to_automation(rule)
    assert config["id"] == "inspextor_cloud_morning_shade"
    assert config["triggers"] == [{"trigger": "time", "at": "07:00:00"}]
    assert config["conditions"][0] == {"condition": "time", "weekday": ["mon", "fri"]}
    assert config["actions"] == [
        {"action": "cover.open_cover", "target": {"entity_id": "cover.bedroom_shade"}}
    ]
    back = from_automation(json.loads(json.dumps(config)))
    assert back is not None
    assert back.form == rule.form


def test_an_interaction_round_trips_with_delay_sun_and_data() -> None:
    rule = parse_rule(interaction())
    config = to_automation(rule)
    assert config["actions"][1] == {"delay": "00:05:00"}
    back = from_automation(config)
    assert back is not None
    assert back.form == rule.form


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "threshold", "entity_id": "light.kitchen", "above": 10, "attribute": "brightness"},
        {"type": "state", "entity_id": "light.kitchen", "from": "on", "to": "off", "for": 90},
    ],
)
def test_other_interaction_triggers_round_trip(trigger: dict[str, Any]) -> None:
    rule = parse_rule(interaction(trigger=trigger, conditions=[]))
    assert from_automation(to_automation(rule)).form == rule.form  # type: ignore[union-attr]


def test_sun_schedule_with_offset_and_time_conditions_round_trip() -> None:
    rule = parse_rule(
        schedule(
            trigger={"type": "sun", "event": "sunset", "offset": -900},
            conditions=[
                {"type": "time", "after": "06:00", "before": "23:30:00", "weekdays": ["sat"]},
                {"type": "threshold", "entity_id": "cover.bedroom_shade", "below": 50},
            ],
        )
    )
    config = to_automation(rule)
    assert config["triggers"] == [{"trigger": "sun", "event": "sunset", "offset": "-00:15:00"}]
    assert from_automation(config).form == rule.form  # type: ignore[union-attr]


def test_a_rule_edited_in_ha_reads_back_changed_or_read_only() -> None:
    config = to_automation(parse_rule(schedule()))
    config["triggers"] = [{"platform": "time", "at": "08:15:00"}]  # an older-style edit
    config["alias"] = "Shade at quarter past eight"
    back = from_automation(config)
    assert back is not None
    assert back.form["trigger"]["at"] == "08:15:00"
    assert back.name == "Shade at quarter past eight"
    config["actions"].append({"action": "script.turn_on", "target": {"entity_id": "script.x"}})
    assert from_automation(config) is not None  # still our form: exposure decides at save
    config["actions"].append({"action": "light.turn_on", "data_template": {"x": "{{ 1 }}"}})
    assert from_automation(config) is None
    assert from_automation({"id": "user_automation", "triggers": []}) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rule_id": "../etc"}, "rule_id must be"),
        ({"rule_id": "_x"}, "rule_id must be"),
        ({"kind": "macro"}, "kind must be"),
        ({"name": "{{ states('x') }}"}, "templates are not allowed"),
        ({"name": ""}, "name must be"),
        ({"extra": 1}, "unknown field extra"),
        ({"trigger": {"type": "state", "entity_id": "light.kitchen"}}, "a schedule is triggered"),
        ({"trigger": {"type": "template", "value_template": "{{ 1 }}"}}, "trigger.type"),
        ({"trigger": {"type": "time", "at": "25:00"}}, "trigger.at must be a time"),
        ({"trigger": {"type": "time", "at": "07:00", "weekdays": ["someday"]}}, "'someday'"),
        ({"trigger": {"type": "sun", "event": "noon"}}, "sunrise or sunset"),
        ({"trigger": {"type": "sun", "event": "sunset", "offset": 99999}}, "trigger.offset"),
        ({"actions": []}, "actions: at least 1"),
        ({"actions": [{"delay": 5}]}, "at least one service call"),
        (
            {"actions": [{"service": "light.turn_on", "entity_id": "light.kitchen"}] * 9},
            "too many actions: 9",
        ),
        ({"conditions": [{"type": "sun", "after": "sunset"}] * 9}, "too many conditions"),
        ({"conditions": [{"type": "template", "value_template": "x"}]}, "conditions[0].type"),
        ({"conditions": [{"type": "time"}]}, "after, before or weekdays"),
        ({"conditions": [{"type": "threshold", "entity_id": "light.kitchen"}]}, "above or below"),
        (
            {"conditions": [{"type": "threshold", "entity_id": "light.x", "above": 5, "below": 1}]},
            "above must be less",
        ),
        (
            {
                "actions": [
                    {
                        "service": "light.turn_on",
                        "entity_id": "light.kitchen",
                        "data": {"x": "{% if %}"},
                    }
                ]
            },
            "templates are not allowed",
        ),
        (
            {
                "actions": [
                    {
                        "service": "light.turn_on",
                        "entity_id": "light.kitchen",
                        "data": {"area_id": "x"},
                    }
                ]
            },
            "must not name targets",
        ),
        (
            {
                "actions": [
                    {
                        "service": "light.turn_on",
                        "entity_id": "light.kitchen",
                        "data": {"x": {"y": 1}},
                    }
                ]
            },
            "flat lists",
        ),
        (
            {"actions": [{"service": "light.turn_on", "entity_id": ["light.a", "light.b"]}]},
            "one entity id",
        ),
        ({"actions": [{"service": "turn_on", "entity_id": "light.kitchen"}]}, "domain.service"),
        ({"actions": [{"delay": 0}]}, "delay must be a whole number"),
        ({"name": "x" * 4000}, "bytes, at most"),
    ],
)
def test_a_malformed_rule_is_refused_with_its_reason(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(RuleError, match=None) as err:
        parse_rule(schedule(**change))
    assert reason in str(err.value)
    assert MAX_ACTIONS == 8


@pytest.mark.parametrize(
    ("actions", "trigger", "reason"),
    [
        ([{"service": "script.turn_on", "entity_id": "script.wipe"}], None, "services of script"),
        (
            [{"service": "homeassistant.restart", "entity_id": "light.kitchen"}],
            None,
            "homeassistant",
        ),
        ([{"service": "switch.turn_on", "entity_id": "light.kitchen"}], None, "does not belong"),
        (
            [{"service": "light.turn_on", "entity_id": "light.garage"}],
            None,
            "light.garage is not exposed",
        ),
        (None, {"type": "state", "entity_id": "person.anna", "to": "home"}, "person entities"),
        (
            None,
            {"type": "state", "entity_id": "lock.front", "to": "unlocked"},
            "lock.front is not exposed",
        ),
    ],
)
def test_exposure_refuses_what_a_command_could_not_do(
    actions: list[dict[str, Any]] | None, trigger: dict[str, Any] | None, reason: str
) -> None:
    rule = parse_rule(
        interaction(
            **({"actions": actions} if actions else {}),
            **({"trigger": trigger} if trigger else {}),
        )
    )
    problem = exposure_problem(rule, EXPOSED)
    assert problem is not None
    assert reason in problem
    assert exposure_problem(parse_rule(interaction()), EXPOSED) is None


def packet(**overrides: Any) -> bytes:
    base = rule_packet(
        command_id="r-1", contract_id="C-1", op="create", iat=1000.0, rule=schedule()
    )
    base.update(overrides)
    return json.dumps(base).encode()


def test_rule_commands_pass_the_same_admission_as_commands() -> None:
    rules = AdmissionRules("C-1")
    facts = read_command(packet(), rules, now=1001.0)
    assert admit(facts, rules).step is Step.LOAD_EXPOSURE
    unexposed = admit(CommandFacts(now=1001.0, command=facts.command, exposed=()), rules)
    assert unexposed.step is Step.REPORT
    assert "is not exposed" in (unexposed.reason or "")
    expired = CommandFacts(now=1100.0, command=facts.command, exposed=EXPOSED)
    assert admit(expired, rules).status == "expired"
    fresh = CommandFacts(now=1001.0, command=facts.command, exposed=EXPOSED)
    assert admit(fresh, rules).step is Step.REMEMBER
    other = read_command(packet(cid="C-2"), rules, now=1001.0)
    assert admit(other, rules).step is Step.IGNORE


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"op": "explode"}, "op must be one of"),
        ({"force": "yes"}, "force must be"),
        ({"op": "delete", "rule": None, "rule_id": "a/b"}, "rule_id must name"),
        ({"rule": {"rule_id": "x"}}, "kind is required"),
        ({"ttl": 0}, "ttl must be positive"),
    ],
)
def test_malformed_rule_commands_are_refused_with_their_id(
    overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(CommandError) as err:
        parse_rule_command(packet(**overrides))
    assert reason in err.value.reason
    assert err.value.command_id == "r-1"


def test_list_delete_enable_parse() -> None:
    listed = parse_rule_command(packet(op="list", rule=None))
    assert (listed.op, listed.rule_id) == (RuleOp.LIST, None)
    gone = parse_rule_command(packet(op="disable", rule=None, rule_id="morning_shade"))
    assert (gone.op, gone.rule_id, gone.rule) == (RuleOp.DISABLE, "morning_shade", None)
    assert gone.check_exposure(()).allowed
    forced = parse_rule_command(packet(force=True))
    assert forced.force
    assert forced.rule_id == "morning_shade"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(mutation=st.dictionaries(st.sampled_from([*list(schedule()), "op", "x"]), _json, max_size=3))
def test_any_rule_either_parses_to_our_prefix_or_is_refused(mutation: dict[str, Any]) -> None:
    raw = copy.deepcopy(schedule())
    raw.update(mutation)
    try:
        rule = parse_rule(raw)
    except RuleError:
        return
    config = to_automation(rule)
    assert config["id"].startswith(AUTOMATION_PREFIX)
    assert rule_id_of(config["id"]) == rule.rule_id
    text = json.dumps(config)
    assert "{{" not in text
    assert "{%" not in text
