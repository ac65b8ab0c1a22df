"""The dev cloud's rules: the API sends rule commands, keeps the synced list, the results'
rules and findings, and the last refusal of each rule; the mobile CLI's rule arguments."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import json
import time
from typing import Any

import aiohttp
import pytest

from cloud_bridge.protocol.action_packets import CommandStatus, result_packet
from cloud_bridge.protocol.records import Lane, rules_record
from cloud_bridge.protocol.rule_packets import parse_rule_command
from cloud_bridge.protocol.rules import parse_rule
from devkit.devcloud import DevCloud
from devkit.devcloud.__main__ import build_parser
from devkit.devcloud.mobile_rules import format_rules, rule_body
from devkit.devstack.demo_rules import add_demo_rules, demo_rules
from tests.helpers.devcloud_fixtures import cloud, home, url
from tests.helpers.devcloud_home import Home
from tests.helpers.sim_fixtures import broker, observer
from tests.helpers.sim_observer import Observer

__all__ = ["broker", "cloud", "home", "observer", "url"]

RULE = {
    "rule_id": "wake",
    "kind": "schedule",
    "name": "Wake up",
    "trigger": {"type": "time", "at": "07:00:00"},
    "conditions": [],
    "actions": [{"service": "cover.open_cover", "entity_id": "cover.shade", "data": {}}],
}
SAVED = {
    "rule_id": "wake",
    "rule": RULE,
    "editable": True,
    "alias": "Wake up",
    "entity_id": "automation.wake_up",
    "enabled": True,
}


def _answer(home: Home, command_id: str, status: CommandStatus, **extra: Any) -> None:
    packet = result_packet(
        command_id=command_id,
        contract_id="C1",
        instance_id=home.identity.instance_id,
        status=status,
        ts=time.time(),
        reason=extra.pop("reason", None),
    )
    home.obs.publish(home.topics.result, json.dumps({**packet, **extra}))


async def _command(http: aiohttp.ClientSession, url: str, command_id: str) -> dict[str, Any]:
    for _ in range(100):
        async with http.get(f"{url}/api/commands/{command_id}") as resp:
            command: dict[str, Any] = await resp.json()
        if command["final"]:
            return command
        await asyncio.sleep(0.05)
    raise AssertionError(f"{command_id} never got a final result")


async def test_rule_commands_results_refusals_and_the_synced_list(
    url: str, home: Home, cloud: DevCloud, observer: Observer
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/api/homes/C1/rules", json={"op": "create", "rule": RULE}
        ) as resp:
            assert resp.status == 202
            sent = await resp.json()
        assert sent["service"] == "rule.create"
        assert sent["entity_id"] == "wake"
        await asyncio.sleep(0.2)
        packet = observer.on(home.topics.action)[-1].payload
        assert parse_rule_command(packet).rule.form == RULE  # type: ignore[union-attr]
        finding = {"kind": "conflict", "others": ["Close at seven"]}
        _answer(
            home,
            sent["id"],
            CommandStatus.REJECTED,
            reason="conflicts with ...",
            findings=[finding],
        )
        refused = await _command(http, url, sent["id"])
        assert refused["results"][-1]["findings"] == [finding]
        async with http.get(f"{url}/api/homes/C1/rules") as resp:
            listed = await resp.json()
        assert listed["refusals"]["wake"]["reason"] == "conflicts with ..."
        assert listed["rules"] == []

        async with http.post(
            f"{url}/api/homes/C1/rules", json={"op": "create", "rule": RULE, "force": True}
        ) as resp:
            forced = await resp.json()
        _answer(home, forced["id"], CommandStatus.SUCCEEDED, rule=SAVED)
        assert (await _command(http, url, forced["id"]))["results"][-1]["rule"] == SAVED
        events = cloud.listen()
        home.send(Lane.STRUCTURE, [rules_record(1, time.time(), [SAVED])])
        await asyncio.wait_for(events.get(), 30)
        home.send(Lane.STRUCTURE, [rules_record(1, time.time(), [])])  # a replay: ignored
        await asyncio.sleep(0.3)
        async with http.get(f"{url}/api/homes/C1/rules") as resp:
            listed = await resp.json()
        assert listed["rules"] == [SAVED]
        assert listed["refusals"] == {}  # the success cleared it

        for body, error in [
            ({"rule": RULE}, "op is a required string"),
            ({"op": "create", "rule": [1]}, "rule must be an object"),
            ({"op": "delete", "rule_id": 5}, "rule_id must be a string"),
            ({"op": "list", "ttl": 0}, "ttl must be"),
            ({"op": "list", "origin": "fax"}, "origin must be"),
        ]:
            async with http.post(f"{url}/api/homes/C1/rules", json=body) as resp:
                assert resp.status == 400
                assert error in (await resp.json())["error"]
        async with http.post(f"{url}/api/homes/C9/rules", json={"op": "list"}) as resp:
            assert resp.status == 404


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["mobile", *argv])


def test_mobile_cli_builds_the_rule_commands() -> None:
    body = rule_body(
        _args(
            "schedule",
            "add",
            "wake",
            "--at",
            "07:00",
            "--days",
            "mon,fri",
            "--do",
            "cover.open_cover:cover.shade",
            "--force",
        )
    )
    assert body == {
        "op": "create",
        "force": True,
        "origin": "mobile",
        "rule": {
            "rule_id": "wake",
            "kind": "schedule",
            "name": "Wake",
            "trigger": {"type": "time", "at": "07:00", "weekdays": ["mon", "fri"]},
            "actions": [{"service": "cover.open_cover", "entity_id": "cover.shade"}],
        },
    }
    parse_rule(body["rule"])
    hot = rule_body(
        _args("rule", "edit", "fan", "--when", "sensor.t>25", "--do", "fan.turn_on:fan.x")
    )
    assert hot["op"] == "update"
    assert hot["rule"]["trigger"] == {"type": "threshold", "entity_id": "sensor.t", "above": 25.0}
    assert (
        rule_body(
            _args(
                "rule", "add", "m", "--when", "binary_sensor.m=on", "--do", "light.turn_on:light.x"
            )
        )["rule"]["trigger"]["to"]
        == "on"
    )
    assert rule_body(_args("rule", "disable", "m")) == {
        "op": "disable",
        "rule_id": "m",
        "origin": "mobile",
    }
    with pytest.raises(SystemExit):
        _args("rule", "add", "m", "--when", "nothing", "--do", "light.turn_on:light.x")
    with pytest.raises(SystemExit):
        _args("schedule", "add", "m", "--at", "07:00", "--do", "light.turn_on")
    changed = {**SAVED, "rule_id": "old", "rule": None, "editable": False, "enabled": False}
    text = format_rules([SAVED, changed], "schedule")
    assert "wake                 on  Wake up" in text
    assert "07:00:00 -> cover.open_cover cover.shade" in text
    assert "(changed in HA: read-only)" in text
    assert format_rules([SAVED], "interaction") == "(no cloud interactions)"
    user = {
        "rule_id": None,
        "owner": "user",
        "read_only": True,
        "alias": "Mine",
        "entity_id": "automation.mine",
        "enabled": True,
        "rule": None,
    }
    assert "automation.mine      on  Mine" in format_rules([user], "schedule")
    assert "(the home's own: read-only)" in format_rules([user], "schedule")


def test_the_demo_rules_are_valid_rules() -> None:
    schedule, interaction = (
        parse_rule(r) for r in demo_rules(datetime(2026, 1, 1, 23, 59, tzinfo=UTC))
    )
    assert schedule.form["trigger"] == {"type": "time", "at": "00:01:00"}
    assert interaction.kind == "interaction"


async def test_the_demo_creates_its_rules_or_updates_them(
    url: str, home: Home, observer: Observer
) -> None:
    """As a second demo run finds them: create is refused (exists), update succeeds."""

    async def play_the_bridge() -> None:
        done: set[str] = set()
        while True:
            for message in list(observer.on(home.topics.action)):
                command = parse_rule_command(message.payload)
                if command.id in done:
                    continue
                done.add(command.id)
                if command.op == "create":
                    _answer(home, command.id, CommandStatus.REJECTED, reason="exists")
                else:
                    _answer(home, command.id, CommandStatus.SUCCEEDED)
            await asyncio.sleep(0.02)

    task = asyncio.get_running_loop().create_task(play_the_bridge())
    try:
        lines = await add_demo_rules(url, "C1")
    finally:
        task.cancel()
    assert lines == [
        "schedule 'Open the bedroom shade': succeeded",
        "interaction 'Kitchen light brings the strip on': succeeded",
    ]
