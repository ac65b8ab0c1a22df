"""Cloud rules end to end: real hass with the integration, the bridge and the dev cloud.

Interactions and schedules made in the dev cloud are saved in HA as automations under
`inspextor_cloud_`, checked for conflicts by the integration first, and synced back to
the cloud; the user's own automations file is never touched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import time
from typing import Any

import paho.mqtt.publish as mqtt_publish
import pytest
import yaml

from cloud_bridge.protocol.rule_packets import rule_packet
from devkit.devstack.stack import Stack
from tests.e2e.conftest import LIGHT, USER_ALIAS, command_until_final, devcloud
from tests.e2e.test_repairs_page import _issues

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

SHADE = "cover.bedroom_shade"
FINAL = {"succeeded", "failed", "rejected", "expired", "duplicate"}


def _files(stack: Stack) -> tuple[Path, Path]:
    assert stack.hass is not None
    return (
        stack.hass.config_dir / "automations.yaml",
        stack.hass.config_dir / "user_automations.yaml",
    )


async def _wait(check: Any, what: str, timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await _sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def rule_command(stack: Stack, body: dict[str, Any], timeout: float = 45) -> dict[str, Any]:
    """Send a rule command as the cloud UI does; the final result (with its rule)."""
    status, sent = await devcloud(
        stack, "POST", f"/api/homes/{stack.config.contract_id}/rules", body
    )
    assert status == 202, sent

    async def final() -> dict[str, Any] | None:
        _, command = await devcloud(stack, "GET", f"/api/commands/{sent['id']}")
        done = [r for r in command.get("results", []) if r["status"] in FINAL]
        return done[-1] if done else None

    result: dict[str, Any] = await _wait(final, f"a final result for {body}", timeout)
    return result


async def cloud_rules(stack: Stack) -> dict[str, dict[str, Any]]:
    _, listed = await devcloud(stack, "GET", f"/api/homes/{stack.config.contract_id}/rules")
    return {r["rule_id"]: r for r in listed["rules"]}


def schedule(rule_id: str, at: str, name: str = "Open the bedroom shade") -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "kind": "schedule",
        "name": name,
        "trigger": {"type": "time", "at": at},
        "actions": [{"service": "cover.open_cover", "entity_id": SHADE}],
    }


def interaction(rule_id: str, motion: str, service: str = "light.turn_on") -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "kind": "interaction",
        "name": "Hall motion lights the kitchen",
        "trigger": {"type": "state", "entity_id": motion, "to": "on"},
        "actions": [{"service": service, "entity_id": LIGHT}],
    }


async def test_a_schedule_is_created_runs_is_listed_switched_updated_deleted(
    stack: Stack, motion: str
) -> None:
    """Every command kind on one schedule; it opens the shade at its time; the cloud's
    list follows every change; the user's file is untouched (the fixture checks)."""
    assert stack.hass is not None
    closed = await command_until_final(stack, "cover.close_cover", SHADE, {})
    assert closed["results"][-1]["status"] == "succeeded", closed
    at = (datetime.now(UTC) + timedelta(seconds=15)).strftime("%H:%M:%S")
    created = await rule_command(stack, {"op": "create", "rule": schedule("shade_e2e", at)})
    assert created["status"] == "succeeded", created
    assert created["rule"]["rule"]["trigger"] == {"type": "time", "at": at}
    assert created["rule"]["enabled"] is True
    entity = created["rule"]["entity_id"]
    assert entity.startswith("automation.")

    async def opened() -> bool:
        state = await stack.hass.get_state(SHADE)  # type: ignore[union-attr]
        return state is not None and state["attributes"].get("current_position") == 100

    await _wait(opened, "the schedule to open the shade", timeout=60)
    assert "shade_e2e" in await _wait(lambda: cloud_rules(stack), "the rules record")
    listed = await rule_command(stack, {"op": "list"})
    assert [r["rule_id"] for r in listed["rules"]] == ["shade_e2e"]

    off = await rule_command(stack, {"op": "disable", "rule_id": "shade_e2e"})
    assert (off["status"], off["rule"]["enabled"]) == ("succeeded", False)
    assert (await stack.hass.get_state(entity))["state"] == "off"  # type: ignore[index]
    on = await rule_command(stack, {"op": "enable", "rule_id": "shade_e2e"})
    assert (on["status"], on["rule"]["enabled"]) == ("succeeded", True)

    renamed = schedule("shade_e2e", "06:30", name="Shade at half past six")
    updated = await rule_command(stack, {"op": "update", "rule": renamed})
    assert updated["status"] == "succeeded", updated
    assert updated["rule"]["rule"]["trigger"]["at"] == "06:30:00"

    async def synced_rename() -> bool:
        rules = await cloud_rules(stack)
        return rules.get("shade_e2e", {}).get("alias") == "Shade at half past six"

    await _wait(synced_rename, "the update in the cloud's list")
    gone = await rule_command(stack, {"op": "delete", "rule_id": "shade_e2e"})
    assert gone["status"] == "succeeded", gone
    await _wait(lambda: _absent(stack, "shade_e2e"), "the rule to leave the cloud's list")
    automations, _ = _files(stack)
    assert "inspextor_cloud_shade_e2e" not in automations.read_text()
    missing = await rule_command(stack, {"op": "delete", "rule_id": "shade_e2e"})
    assert (missing["status"], missing["reason"]) == ("failed", "no cloud rule shade_e2e")


async def _not(check: Any) -> bool:
    return not await check()


async def _absent(stack: Stack, rule_id: str) -> bool:
    return rule_id not in await cloud_rules(stack)


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (
            {"actions": [{"service": "light.turn_on", "entity_id": "light.living_room_strip"}]},
            "light.living_room_strip is not exposed to the cloud",
        ),
        (
            {"actions": [{"service": "homeassistant.restart", "entity_id": LIGHT}]},
            "services of homeassistant are never allowed",
        ),
        (
            {
                "actions": [
                    {
                        "service": "light.turn_on",
                        "entity_id": LIGHT,
                        "data": {"brightness": "{{ 255 }}"},
                    }
                ]
            },
            "templates are not allowed",
        ),
        (
            {"actions": [{"service": "light.turn_on", "entity_id": LIGHT}] * 9},
            "too many actions: 9, at most 8",
        ),
    ],
)
async def test_a_rule_beyond_the_cloud_s_reach_is_refused_with_its_reason(
    stack: Stack, motion: str, rule: dict[str, Any], reason: str
) -> None:
    body = {"op": "create", "rule": {**schedule("refused_e2e", "05:00"), **rule}}
    result = await rule_command(stack, body)
    assert result["status"] == "rejected", result
    assert reason in result["reason"]
    automations, _ = _files(stack)
    assert "refused_e2e" not in automations.read_text()


async def test_a_conflicting_interaction_is_refused_naming_the_user_s_automation(
    stack: Stack, motion: str
) -> None:
    """The user's "motion → light off" and a cloud "motion → light on": refused with the
    user's alias; saved when the command says force, with the finding in the result."""
    refused = await rule_command(stack, {"op": "create", "rule": interaction("hall_e2e", motion)})
    assert refused["status"] == "rejected", refused
    assert f'conflicts with "{USER_ALIAS}" on {LIGHT}' in refused["reason"]
    assert refused["findings"][0]["kind"] == "conflict"
    automations, _ = _files(stack)
    assert "hall_e2e" not in automations.read_text()
    body = {"op": "create", "rule": interaction("hall_e2e", motion), "force": True}
    forced = await rule_command(stack, body)
    assert forced["status"] == "succeeded", forced
    assert forced["findings"][0]["others"] == [USER_ALIAS]
    assert stack.hass is not None

    async def repair() -> bool:  # saved anyway: HA shows the conflict as a repair
        texts = [json.dumps(i) for i in await _issues(stack.hass)]  # type: ignore[arg-type]
        return any(
            "interaction_conflict" in t and "Hall motion lights the kitchen" in t for t in texts
        )

    await _wait(repair, "the conflict's repair issue", timeout=60)
    assert (await rule_command(stack, {"op": "delete", "rule_id": "hall_e2e"}))["status"] == (
        "succeeded"
    )
    await _wait(lambda: _not(repair), "the repair to go with the rule", timeout=60)


async def test_a_rule_changed_in_ha_is_synced_back(stack: Stack, motion: str) -> None:
    """The user renames and retimes a cloud rule in HA's automation editor: the cloud's
    list shows the change."""
    assert stack.hass is not None
    created = await rule_command(stack, {"op": "create", "rule": schedule("edited_e2e", "04:00")})
    assert created["status"] == "succeeded", created
    automations, _ = _files(stack)
    configs = yaml.safe_load(automations.read_text())
    config = next(c for c in configs if c["id"] == "inspextor_cloud_edited_e2e")
    config["alias"] = "Edited in HA"
    config["triggers"][0]["at"] = "04:45:00"
    await stack.hass.post_json("/api/config/automation/config/inspextor_cloud_edited_e2e", config)

    async def synced() -> dict[str, Any] | None:
        rule = (await cloud_rules(stack)).get("edited_e2e")
        return rule if rule and rule["alias"] == "Edited in HA" else None

    rule = await _wait(synced, "the HA edit in the cloud's list")
    assert rule["rule"]["trigger"]["at"] == "04:45:00"
    assert (await rule_command(stack, {"op": "delete", "rule_id": "edited_e2e"}))["status"] == (
        "succeeded"
    )


async def test_rule_commands_are_deduplicated_and_expire(
    stack: Stack, motion: str, site_observer_factory: Any
) -> None:
    """The same rule command delivered twice runs once; one past its TTL never runs."""
    results = site_observer_factory(stack.config.cloud_port, "inx/instance/return")
    topic = f"inx/{stack.config.contract_id}/action"
    packet = rule_packet(
        command_id="rule-dup-e2e", contract_id=stack.config.contract_id, op="list", iat=time.time()
    )
    stale = rule_packet(
        command_id="rule-stale-e2e",
        contract_id=stack.config.contract_id,
        op="create",
        iat=time.time() - 120,
        rule=schedule("stale_e2e", "03:00"),
    )
    for payload in (packet, packet, stale):
        mqtt_publish.single(
            topic, json.dumps(payload), qos=1, hostname="127.0.0.1", port=stack.config.cloud_port
        )

    def statuses(command_id: str) -> list[str]:
        found = [json.loads(p) for _, p in results.matching("inx/instance/return")]
        return [r["status"] for r in found if r["id"] == command_id]

    async def both_done() -> bool:
        return "duplicate" in statuses("rule-dup-e2e") and bool(statuses("rule-stale-e2e"))

    await _wait(both_done, "the duplicate and the stale command's results")
    assert sorted(statuses("rule-dup-e2e")) == ["accepted", "duplicate", "succeeded"]
    assert statuses("rule-stale-e2e") == ["expired"]
    automations, _ = _files(stack)
    assert "stale_e2e" not in automations.read_text()


async def _cli(stack: Stack, *args: str) -> tuple[int, str]:
    import asyncio
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devkit.devcloud",
        "mobile",
        "--url",
        stack.devcloud_url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    return proc.returncode or 0, out.decode()


async def test_the_mobile_cli_manages_schedules_and_rules(stack: Stack, motion: str) -> None:
    """`schedule add/list/disable/delete` and a conflicting `rule add` refused with why."""
    code, out = await _cli(
        stack,
        "schedule",
        "add",
        "cli_e2e",
        "--at",
        "02:00",
        "--days",
        "sat,sun",
        "--do",
        "cover.open_cover:cover.bedroom_shade",
    )
    assert code == 0, out
    assert "succeeded" in out

    async def listed() -> str | None:
        _code, out = await _cli(stack, "schedule", "list")
        return out if "cli_e2e" in out else None

    assert "02:00:00 -> cover.open_cover cover.bedroom_shade" in await _wait(listed, "the list")
    code, out = await _cli(stack, "schedule", "disable", "cli_e2e")
    assert code == 0, out
    code, out = await _cli(stack, "schedule", "delete", "cli_e2e")
    assert code == 0, out
    code, out = await _cli(
        stack, "rule", "add", "cli_hall", "--when", f"{motion}=on", "--do", f"light.turn_on:{LIGHT}"
    )
    assert code == 1
    assert f'rejected (conflicts with "{USER_ALIAS}" on {LIGHT}' in out


async def _restart_bridge(stack: Stack, **options: Any) -> None:
    assert stack.bridge is not None
    await stack.bridge.stop()
    stack.config.bridge_options.update(options)
    await stack.start_bridge()


async def test_user_automations_reach_the_cloud_only_when_exposed_and_read_only(
    stack: Stack, motion: str
) -> None:
    """Off (the default) the cloud's list never holds the user's automation; with the
    bridge option on it does, read-only, and a command cannot touch it."""
    created = await rule_command(stack, {"op": "create", "rule": schedule("own_e2e", "01:00")})
    assert created["status"] == "succeeded", created
    rules = await _wait(lambda: cloud_rules(stack), "the rules record")
    assert all(r.get("owner") != "user" for r in rules.values())
    await _restart_bridge(stack, expose_user_rules=True)
    try:

        async def user_listed() -> dict[str, Any] | None:
            _, listed = await devcloud(stack, "GET", f"/api/homes/{stack.config.contract_id}/rules")
            found = [r for r in listed["rules"] if r.get("owner") == "user"]
            return found[0] if found else None

        user = await _wait(user_listed, "the user's automation in the cloud's list")
        assert (user["alias"], user["read_only"]) == (USER_ALIAS, True)
        assert user["rule"]["actions"] == [
            {"service": "light.turn_off", "entity_id": LIGHT, "data": {}}
        ]
        refused = await rule_command(stack, {"op": "delete", "rule_id": "user_hall_off"})
        assert refused["status"] == "failed"
        assert refused["reason"] == "no cloud rule user_hall_off"
    finally:
        await _restart_bridge(stack, expose_user_rules=False)
    assert (await rule_command(stack, {"op": "delete", "rule_id": "own_e2e"}))["status"] == (
        "succeeded"
    )
