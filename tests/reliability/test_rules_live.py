"""500 random rule commands from hypothesis, many hostile, against a live bridge and hass.

The whole stack runs for real (hass with the integration, the bridge, the dev cloud's
broker). Afterwards: the bridge still answers, every command got a final result, no
automation outside `inspextor_cloud_` was written (the user's file is byte-identical and
every id in automations.yaml is ours), and no saved rule can reach a forbidden service,
another domain's service or an entity the cloud was not given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from pathlib import Path
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
import paho.mqtt.client as mqtt
import pytest
import pytest_asyncio
import yaml

from cloud_bridge.protocol.exposure import FORBIDDEN_DOMAINS
from cloud_bridge.protocol.rule_automation import AUTOMATION_PREFIX
from devkit.devstack.stack import Stack, StackConfig
from tests.helpers.mosquitto import mosquitto_path

COMMANDS = 500
EXPOSED = ["light.kitchen_light", "cover.bedroom_shade"]
FINAL = {"succeeded", "failed", "rejected", "expired", "duplicate"}
USER_FILE = "- id: user_kept\n  alias: Mine\n  triggers: []\n  actions: []\n"

_ids = st.sampled_from(["a", "b", "c", "d", "e"]) | st.sampled_from(
    ["../../etc/passwd", "inspextor_cloud_", "user_kept", "", "A", "x" * 60, "ü", "a/b", "a b"]
)
_entities = st.sampled_from(
    [*EXPOSED, "light.living_room_strip", "lock.front_door", "person.anna", "script.x", "x"]
)
_services = st.sampled_from(
    [
        "light.turn_on",
        "light.turn_off",
        "cover.open_cover",
        "cover.close_cover",
        "script.turn_on",
        "homeassistant.restart",
        "shell_command.wipe",
        "automation.trigger",
        "lock.unlock",
        "notify.notify",
        "light",
    ]
)
_values = st.one_of(
    st.integers(-5, 300),
    st.sampled_from(["{{ states('x') }}", "{% raw %}", "on", "x" * 200, None, True]),
    st.lists(st.integers(0, 255), max_size=10),
    st.fixed_dictionaries({"nested": st.just("{{ 1 }}")}),
)
_action = st.one_of(
    st.fixed_dictionaries(
        {"service": _services, "entity_id": _entities},
        optional={
            "data": st.dictionaries(
                st.sampled_from(["brightness", "entity_id", "x"]), _values, max_size=3
            )
        },
    ),
    st.fixed_dictionaries({"delay": st.integers(-1, 5000)}),
    st.just({"service": "light.turn_on", "entity_id": EXPOSED[0], "extra": 1}),
)
_trigger = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("time"), "at": st.sampled_from(["03:00", "25:00", "{{ x }}"])}
    ),
    st.fixed_dictionaries(
        {"type": st.just("state"), "entity_id": _entities, "to": st.sampled_from(["on", "off"])}
    ),
    st.fixed_dictionaries({"type": st.just("sun"), "event": st.sampled_from(["sunset", "noon"])}),
    st.fixed_dictionaries({"type": st.sampled_from(["template", "event", "webhook"])}),
)
_rule = st.fixed_dictionaries(
    {
        "rule_id": _ids,
        "kind": st.sampled_from(["schedule", "interaction", "script"]),
        "name": st.sampled_from(["Rule", "{{ evil }}", "", "n" * 150]),
        "trigger": _trigger,
        "actions": st.lists(_action, min_size=0, max_size=10),
    },
    optional={
        "conditions": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["sun", "template"]), "after": st.just("sunset")}
            ),
            max_size=10,
        )
    },
)
_command = st.fixed_dictionaries(
    {
        "op": st.sampled_from(
            ["create", "create", "update", "delete", "enable", "disable", "list", "drop"]
        ),
        "rule": _rule | st.none() | st.integers(),
        "rule_id": _ids,
        "force": st.booleans() | st.just("yes"),
        "ttl": st.sampled_from([30, 30, 0, -1, 10_000]),
    }
)


def generate(count: int) -> list[dict[str, Any]]:
    """`count` commands drawn by hypothesis (its generation phase only: no shrinking)."""
    drawn: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(command=_command)
    def collect(command: dict[str, Any]) -> None:
        drawn.append(command)

    collect()
    return drawn


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    workdir = tmp_path_factory.mktemp("rules-stack")
    running = Stack(StackConfig.for_tests(workdir, bridge_options={"max_publish_rate": 100}))
    await running.start()
    try:
        await running.set_exposure(EXPOSED)
        yield running
    finally:
        await running.stop()


def packets(commands: list[dict[str, Any]], contract: str) -> list[dict[str, Any]]:
    now = time.time()
    out = []
    for n, command in enumerate(commands):
        packet = {
            "c": "Command",
            "a": "rule",
            "id": f"fuzz-{n}",
            "cid": contract,
            "iat": now,
            "origin": "mobile",
            **command,
        }
        out.append(packet)
    return out


def _audit_saved(automations: Path) -> list[str]:
    """What is wrong with the automations the bridge saved (empty when all is well)."""
    problems = []
    for config in yaml.safe_load(automations.read_text()) or []:
        if not str(config.get("id", "")).startswith(AUTOMATION_PREFIX):
            problems.append(f"automation outside the prefix: {config.get('id')}")
        text = json.dumps(config)
        if "{{" in text or "{%" in text:
            problems.append(f"template in {config['id']}")
        for action in config.get("actions", []):
            if "delay" in action:
                continue
            service, target = action["action"], action["target"]["entity_id"]
            domain = service.partition(".")[0]
            if (
                domain in FORBIDDEN_DOMAINS
                or target not in EXPOSED
                or target.split(".")[0] != domain
            ):
                problems.append(f"{config['id']} reaches {service} on {target}")
    return problems


@pytest.mark.asyncio(loop_scope="module")
async def test_500_random_rule_commands_never_escape(stack: Stack) -> None:
    assert stack.hass is not None
    user_file = stack.hass.config_dir / "user_automations.yaml"
    user_file.write_text(USER_FILE)
    await stack.hass.call_service("automation", "reload", {})
    commands = packets(generate(COMMANDS), stack.config.contract_id)
    assert len(commands) == COMMANDS
    finals: dict[str, str] = {}

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        result = json.loads(msg.payload)
        if result.get("status") in FINAL:
            finals[result["id"]] = result["status"]

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.connect("127.0.0.1", stack.config.cloud_port)
    client.subscribe("inx/instance/return", qos=1)
    client.loop_start()
    try:
        topic = f"inx/{stack.config.contract_id}/action"
        for packet in commands:
            client.publish(topic, json.dumps(packet), qos=1).wait_for_publish(10)
        valid_ids = {c["id"] for c in commands if 0 < c["ttl"] <= 300}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not valid_ids <= finals.keys():
            await _sleep(0.5)
    finally:
        client.loop_stop()
        client.disconnect()
    assert valid_ids <= finals.keys(), f"{len(valid_ids - finals.keys())} commands unanswered"
    status, body = await stack.bridge_api("GET", "/api/status")
    assert status == 200, body  # no crash
    assert user_file.read_text() == USER_FILE
    assert _audit_saved(stack.hass.config_dir / "automations.yaml") == []
    counts = {s: list(finals.values()).count(s) for s in FINAL}
    print(f"500 rule commands: {counts}")
    assert counts["succeeded"] > 0
    assert counts["rejected"] > COMMANDS // 4


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
