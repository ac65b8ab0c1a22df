"""Normalisation of every trigger, condition and action form the analysis reads."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.inspextor.interactions import (
    Analyser,
    Facts,
    analyse,
    check_candidate,
    normalise,
)
from custom_components.inspextor.interactions.overlap import overlap

LIGHT = "light.desk"
FACTS = Facts(
    inspextor=frozenset({LIGHT, "cover.blind", "light.a", "light.b"}),
    area_entities={"office": frozenset({LIGHT, "cover.blind", "switch.fan"})},
    device_entities={"dev1": frozenset({LIGHT})},
    scene_entities={"scene.work": {LIGHT: "on", "cover.blind": "open", "input_select.m": "x"}},
    registry_ids={"0123abcd": LIGHT},
)


def _effects(actions: Any) -> list[tuple[str, str, float | None, bool, bool]]:
    auto = normalise("automation.t", {"triggers": [], "actions": actions}, FACTS)
    return [(e.entity, e.result, e.level, e.delayed, e.exact) for e in auto.effects]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            {"service": "light.turn_on", "data": {"entity_id": LIGHT, "brightness_pct": 50}},
            [(LIGHT, "on", 128, False, True)],
        ),
        (
            {"action": "light.turn_on", "target": {"device_id": "dev1"}, "data": {"brightness": 0}},
            [(LIGHT, "off", None, False, True)],
        ),
        (
            {"action": "light.turn_on", "entity_id": LIGHT, "data": {"brightness_step": 10}},
            [(LIGHT, "on", None, False, False)],
        ),
        (
            {"action": "light.turn_on", "entity_id": LIGHT, "data": {"brightness": "{{ 3 }}"}},
            [(LIGHT, "on", None, False, False)],
        ),
        (
            {"action": "light.toggle", "target": {"area_id": "office"}},
            [(LIGHT, "toggle", None, False, True)],
        ),
        (
            {"action": "homeassistant.turn_off", "target": {"area_id": ["office"]}},
            [
                ("cover.blind", "off", None, False, True),
                (LIGHT, "off", None, False, True),
                ("switch.fan", "off", None, False, True),
            ],
        ),
        (
            {
                "action": "cover.set_cover_position",
                "entity_id": "cover.blind",
                "data": {"position": 0},
            },
            [("cover.blind", "closed", 0, False, True)],
        ),
        (
            {"action": "cover.open_cover", "entity_id": "cover.blind"},
            [("cover.blind", "open", None, False, True)],
        ),
        ({"action": "cover.stop_cover", "entity_id": "cover.blind"}, []),
        (
            {
                "action": "inspextor.send_command",
                "entity_id": LIGHT,
                "data": {"capability": "brightness", "value": 0},
            },
            [(LIGHT, "off", 0, False, True)],
        ),
        (
            {
                "action": "inspextor.send_command",
                "entity_id": "cover.blind",
                "data": {"capability": "position", "value": 30},
            },
            [("cover.blind", "open", 30, False, True)],
        ),
        (
            {
                "action": "inspextor.send_command",
                "entity_id": LIGHT,
                "data": {"capability": "brightness", "value": "{{ x }}"},
            },
            [],
        ),
        (
            {
                "action": "input_select.select_option",
                "entity_id": "input_select.m",
                "data": {"option": "away"},
            },
            [("input_select.m", "=away", None, False, True)],
        ),
        (
            {
                "action": "input_number.set_value",
                "entity_id": "input_number.n",
                "data": {"value": "{{ 4 }}"},
            },
            [("input_number.n", "={{ 4 }}", None, False, False)],
        ),
        (
            {"scene": "scene.work"},
            [
                (LIGHT, "on", None, False, True),
                ("cover.blind", "open", None, False, True),
                ("input_select.m", "=x", None, False, True),
            ],
        ),
        (
            {"device_id": "dev1", "domain": "light", "entity_id": "0123abcd", "type": "turn_off"},
            [(LIGHT, "off", None, False, True)],
        ),
        ({"device_id": "dev1", "domain": "light", "type": "flash"}, []),
        ({"action": "light.turn_on", "target": {"entity_id": "{{ states.light | first }}"}}, []),
        ({"action": "{{ 'light.turn_on' }}", "entity_id": LIGHT}, []),
        ({"action": "notify.mobile", "data": {"message": "hi"}}, []),
        ({"action": "light.turn_on", "entity_id": LIGHT, "enabled": False}, []),
    ],
)
def test_service_call_forms(action: dict[str, Any], expected: list[Any]) -> None:
    """Each service-call form gives its targets and result (or nothing when unknowable)."""
    assert _effects([action]) == expected


def test_blocks_delays_and_stop() -> None:
    """parallel, repeat, sequence, if/else, a condition step, delays and stop."""
    actions = [
        {
            "parallel": [
                {"action": "light.turn_on", "entity_id": "light.a"},
                {"sequence": [{"action": "light.turn_on", "entity_id": "light.b"}]},
            ]
        },
        {"wait_for_trigger": [{"trigger": "state", "entity_id": "sensor.x"}]},
        {"repeat": {"count": 3, "sequence": [{"action": "light.toggle", "entity_id": LIGHT}]}},
        {
            "if": [{"condition": "state", "entity_id": "input_boolean.b", "state": "on"}],
            "then": [{"action": "light.turn_off", "entity_id": "light.a"}],
            "else": [{"action": "light.turn_off", "entity_id": "light.b"}],
        },
        {"condition": "template", "value_template": "{{ true }}"},
        {"action": "cover.close_cover", "entity_id": "cover.blind"},
        {"stop": "done"},
        {"action": "light.turn_off", "entity_id": LIGHT},
    ]
    auto = normalise("automation.t", {"triggers": [], "actions": actions}, FACTS)
    assert [(e.entity, e.result, e.delayed) for e in auto.effects] == [
        ("light.a", "on", False),
        ("light.b", "on", False),
        (LIGHT, "toggle", True),
        ("light.a", "off", True),
        ("light.b", "off", True),
        ("cover.blind", "closed", True),
    ]
    assert auto.effects[3].guard is not None
    assert auto.effects[5].guard is not None
    assert auto.effects[5].guard[0].opaque


def _triggers(*confs: Any) -> list[Any]:
    return normalise("automation.t", {"trigger": list(confs), "action": []}, FACTS).triggers


def test_trigger_forms() -> None:
    """Every trigger kind; anything else is unknown and listed, never dropped."""
    found = _triggers(
        {"platform": "time_pattern", "minutes": "/15"},
        {"platform": "time_pattern", "hours": 7},
        {"platform": "time", "at": ["07:00", "input_datetime.wake"]},
        {"platform": "sun", "event": "sunset", "offset": "-00:30:00"},
        {"platform": "homeassistant", "event": "start"},
        {
            "platform": "device",
            "domain": "binary_sensor",
            "entity_id": "0123abcd",
            "type": "no_motion",
        },
        {"platform": "device", "domain": "light", "entity_id": LIGHT, "type": "changed_states"},
        {"platform": "device", "domain": "cover", "entity_id": "cover.blind", "type": "opened"},
        {"platform": "device", "domain": "light", "entity_id": LIGHT, "type": "brightness"},
        {"platform": "device", "domain": "light", "device_id": "dev1"},
        {
            "platform": "numeric_state",
            "entity_id": "sensor.t",
            "value_template": "{{ 1 }}",
            "above": 3,
        },
        {"platform": "webhook", "webhook_id": "x", "id": "hook"},
        {"platform": "state", "entity_id": "sensor.t", "enabled": False},
        "not a dict",
    )
    kinds = [(t.kind, t.entity, t.to) for t in found]
    assert kinds[:5] == [("time", None, None)] * 4 + [("sun", None, None)]
    assert kinds[5] == ("homeassistant", None, None)
    assert kinds[6] == ("state", LIGHT, frozenset({"off"}))
    assert kinds[7] == ("state", LIGHT, None)
    assert kinds[8] == ("state", "cover.blind", frozenset({"open"}))
    assert [k[0] for k in kinds[9:]] == ["unknown"] * 5
    assert found[0].times is not None
    assert found[0].times.minutes == frozenset({0, 15, 30, 45})
    assert found[1].times is not None
    assert found[1].times.minutes == frozenset({0})
    auto = normalise(
        "automation.t", {"trigger": [{"platform": "webhook", "webhook_id": "x"}]}, FACTS
    )
    assert auto.unknown == ['trigger webhook {"platform": "webhook", "webhook_id": "x"}']


def test_time_overlaps() -> None:
    """07:00:00 is in `minutes: /15`; 07:00:30 is not; two input_datetime times match."""
    pattern, at_seven, at_half, dt_one, dt_two = _triggers(
        {"platform": "time_pattern", "minutes": "/15"},
        {"platform": "time", "at": "07:00:00"},
        {"platform": "time", "at": "07:00:30"},
        {"platform": "time", "at": "input_datetime.wake"},
        {"platform": "time", "at": "input_datetime.wake"},
    )
    assert overlap(pattern, at_seven) == "certain"
    assert overlap(pattern, at_half) is None
    assert overlap(dt_one, dt_two) == "certain"
    state, numeric = _triggers(
        {"platform": "state", "entity_id": "sensor.t"},
        {"platform": "numeric_state", "entity_id": "sensor.t", "below": 5},
    )
    assert overlap(state, numeric) == "possible"


def _pair(cond_a: list[Any], cond_b: list[Any], trig: dict[str, Any] | None = None) -> list[str]:
    trig = trig or {"trigger": "state", "entity_id": "binary_sensor.m", "to": "on"}
    autos = {
        f"automation.{name}": {
            "triggers": [trig],
            "conditions": cond,
            "actions": [{"action": f"light.turn_{name}", "entity_id": LIGHT}],
        }
        for name, cond in (("on", cond_a), ("off", cond_b))
    }
    return [f.severity for f in analyse(autos, FACTS) if f.kind == "conflict"]


@pytest.mark.parametrize(
    ("cond_a", "cond_b", "expected"),
    [
        ([], [], ["certain"]),
        (
            [{"condition": "time", "after": "08:00", "before": "12:00"}],
            [{"condition": "time", "after": "13:00"}],
            [],
        ),
        (
            [{"condition": "time", "after": "22:00", "before": "06:00"}],
            [{"condition": "time", "after": "05:00", "before": "07:00"}],
            ["certain"],
        ),
        ([{"condition": "time", "after": "input_datetime.x"}], [], ["possible"]),
        (
            [{"condition": "numeric_state", "entity_id": "sensor.lux", "below": 10}],
            [{"condition": "numeric_state", "entity_id": "sensor.lux", "above": 50}],
            [],
        ),
        (
            [{"condition": "numeric_state", "entity_id": "sensor.lux", "below": "input_number.x"}],
            [],
            ["possible"],
        ),
        (
            [
                {
                    "condition": "or",
                    "conditions": [
                        {"condition": "state", "entity_id": "input_boolean.a", "state": "on"},
                        {"condition": "state", "entity_id": "input_boolean.b", "state": "on"},
                    ],
                }
            ],
            [
                {
                    "condition": "state",
                    "entity_id": ["input_boolean.a", "input_boolean.b"],
                    "state": "off",
                }
            ],
            [],
        ),
        (
            [
                {
                    "condition": "state",
                    "entity_id": ["input_boolean.a", "input_boolean.b"],
                    "state": "on",
                    "match": "any",
                }
            ],
            [
                {
                    "condition": "not",
                    "conditions": [
                        {"condition": "state", "entity_id": "input_boolean.a", "state": "on"}
                    ],
                },
                {
                    "condition": "not",
                    "conditions": [
                        {"condition": "state", "entity_id": "input_boolean.b", "state": "on"}
                    ],
                },
            ],
            [],
        ),
        (
            [
                {
                    "condition": "not",
                    "conditions": [{"condition": "template", "value_template": "x"}],
                }
            ],
            [],
            ["possible"],
        ),
        (
            [{"condition": "sun", "before": "sunrise"}],
            [{"condition": "sun", "after": "sunrise"}],
            [],
        ),
        (
            [{"condition": "sun", "after": "sunset", "after_offset": "-01:00:00"}],
            [{"condition": "sun", "before": "sunset"}],
            ["possible"],
        ),
        (
            [
                {
                    "condition": "and",
                    "conditions": [
                        {"condition": "state", "entity_id": "sun.sun", "state": "above_horizon"}
                    ],
                }
            ],
            [{"condition": "state", "entity_id": "sun.sun", "state": "below_horizon"}],
            [],
        ),
        (["{{ is_state('x', 'on') }}"], [], ["possible"]),
        ([{"condition": "zone", "entity_id": "person.a", "zone": "zone.home"}], [], ["possible"]),
        (
            [{"condition": "state", "entity_id": "x", "state": "on", "enabled": False}],
            [{"condition": "state", "entity_id": "x", "state": "off"}],
            ["certain"],
        ),
    ],
)
def test_conditions_decide_exclusion(cond_a: Any, cond_b: Any, expected: list[str]) -> None:
    """Exclusive conditions hide a conflict; unreadable ones lower it to possible."""
    assert _pair(cond_a, cond_b) == expected


def test_numeric_and_from_triggers() -> None:
    """Disjoint numeric ranges never fire together; `from` sets must meet too."""
    low = {"trigger": "numeric_state", "entity_id": "sensor.t", "below": 10}
    assert _pair([], [], low) == ["certain"]
    autos = {
        "automation.on": {
            "triggers": [{"trigger": "numeric_state", "entity_id": "sensor.t", "below": 10}],
            "actions": [{"action": "light.turn_on", "entity_id": LIGHT}],
        },
        "automation.off": {
            "triggers": [{"trigger": "numeric_state", "entity_id": "sensor.t", "above": 20}],
            "actions": [{"action": "light.turn_off", "entity_id": LIGHT}],
        },
        "automation.a": {
            "triggers": [{"trigger": "state", "entity_id": "s.x", "from": "a", "to": "c"}],
            "actions": [{"action": "light.turn_on", "entity_id": "light.a"}],
        },
        "automation.b": {
            "triggers": [{"trigger": "state", "entity_id": "s.x", "from": "b", "to": "c"}],
            "actions": [{"action": "light.turn_off", "entity_id": "light.a"}],
        },
    }
    assert analyse(autos, FACTS) == []


def test_numeric_loop_and_levels() -> None:
    """A number set by one automation triggers a numeric trigger of another: a loop; two
    brightness levels on the same event conflict."""
    autos = {
        "automation.up": {
            "triggers": [{"trigger": "numeric_state", "entity_id": "input_number.n", "below": 5}],
            "actions": [
                {
                    "action": "input_number.set_value",
                    "entity_id": "input_number.n",
                    "data": {"value": 9},
                },
                {"action": "light.turn_on", "entity_id": LIGHT, "data": {"brightness": 10}},
            ],
        },
        "automation.down": {
            "triggers": [{"trigger": "numeric_state", "entity_id": "input_number.n", "above": 5}],
            "actions": [
                {
                    "action": "input_number.set_value",
                    "entity_id": "input_number.n",
                    "data": {"value": 1},
                }
            ],
        },
        "automation.dim": {
            "triggers": [{"trigger": "numeric_state", "entity_id": "input_number.n", "below": 3}],
            "actions": [
                {"action": "light.turn_on", "entity_id": LIGHT, "data": {"brightness": 200}}
            ],
        },
    }
    kinds = sorted((f.kind, f.severity, f.automations) for f in analyse(autos, FACTS))
    assert kinds == [
        ("conflict", "certain", ("automation.dim", "automation.up")),
        ("loop", "certain", ("automation.up", "automation.down")),
    ]


def test_loop_that_settles_is_not_reported() -> None:
    """Light on starts the fan, fan on turns the light on: both stay on, no loop."""
    autos = {
        "automation.a": {
            "triggers": [{"trigger": "state", "entity_id": LIGHT, "to": "on"}],
            "actions": [{"action": "switch.turn_on", "entity_id": "switch.fan"}],
        },
        "automation.b": {
            "triggers": [{"trigger": "state", "entity_id": "switch.fan", "to": "on"}],
            "actions": [{"action": "light.turn_on", "entity_id": LIGHT}],
        },
    }
    assert analyse(autos, FACTS) == []


def test_shadowed_by_contradicting_conditions_alone() -> None:
    """Conditions that contradict each other make any trigger useless."""
    autos = {
        "automation.x": {
            "triggers": [{"trigger": "time", "at": "07:00"}],
            "conditions": [
                {"condition": "state", "entity_id": "input_boolean.a", "state": "on"},
                {"condition": "state", "entity_id": "input_boolean.a", "state": "off"},
            ],
            "actions": [{"action": "light.turn_on", "entity_id": LIGHT}],
        },
        "automation.manual": {"actions": [{"action": "light.turn_on", "entity_id": LIGHT}]},
    }
    (finding,) = analyse(autos, FACTS)
    assert (finding.kind, finding.automations) == ("shadowed", ("automation.x",))
    assert finding.evidence["condition"] == "the conditions"


def test_check_candidate_and_removal() -> None:
    """A candidate rule is checked against the existing ones; removing one drops its
    findings."""
    existing = {
        "automation.on": {
            "triggers": [{"trigger": "time", "at": "07:00"}],
            "actions": [{"action": "light.turn_on", "entity_id": LIGHT}],
        },
    }
    candidate = {
        "triggers": [{"trigger": "time", "at": "07:00"}],
        "actions": [{"action": "light.turn_off", "entity_id": LIGHT}],
    }
    (found,) = check_candidate("automation.cloud_1", candidate, existing, FACTS)
    assert found.kind == "conflict"
    assert "automation.cloud_1" in found.automations
    assert found.as_dict()["evidence"]["trigger"] == "time at 07:00"
    analyser = Analyser(FACTS)
    analyser.rebuild({**existing, "automation.cloud_1": candidate})
    assert analyser.update("automation.cloud_1", None) == []
    assert analyser.update("automation.missing", None) == []


def test_not_to_and_weekday_options_of_triggers() -> None:
    """`to: on` and `not_to: on` never fire together; time triggers on other weekdays
    neither; a `not_from` state blocks a loop step."""
    on = {"trigger": "state", "entity_id": "binary_sensor.m", "to": "on"}
    not_on = {"trigger": "state", "entity_id": "binary_sensor.m", "not_to": ["on"]}
    monday = {"trigger": "time", "at": "07:00", "weekday": ["mon"]}
    sunday = {"trigger": "time", "at": "07:00", "weekday": "sun"}
    autos = {
        "automation.a": {
            "triggers": [on, monday],
            "actions": [{"action": "light.turn_on", "entity_id": LIGHT}],
        },
        "automation.b": {
            "triggers": [not_on, sunday],
            "actions": [{"action": "light.turn_off", "entity_id": LIGHT}],
        },
        "automation.c": {
            "triggers": [{"trigger": "state", "entity_id": "light.a", "to": "on"}],
            "actions": [{"action": "light.turn_off", "entity_id": "light.a"}],
        },
        "automation.d": {
            "triggers": [
                {"trigger": "state", "entity_id": "light.a", "not_from": "on", "to": "off"}
            ],
            "actions": [{"action": "light.turn_on", "entity_id": "light.a"}],
        },
    }
    assert analyse(autos, FACTS) == []
    autos["automation.b"]["triggers"] = [{**not_on, "not_to": ["off"]}]
    (found,) = analyse(autos, FACTS)
    assert (found.kind, found.severity) == ("conflict", "certain")
