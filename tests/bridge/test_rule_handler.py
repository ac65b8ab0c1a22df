"""Rule commands in the bridge process: the handler's steps, the REST adapter, the wiring.

Home Assistant is played by FakeHomeAssistant with automation entities that appear when a
config is saved (as HA's editor API reloads them); the end-to-end tests run real hass.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from cloud_bridge.config import parse_options
from cloud_bridge.factory import build_bridge
from cloud_bridge.ha.automations import RestAutomationConfigs, check_owned, rest_base
from cloud_bridge.ha.base import HAError
from cloud_bridge.protocol.action_packets import CommandStatus
from cloud_bridge.protocol.packing import unpack
from cloud_bridge.protocol.rule_packets import parse_rule_command, rule_packet
from cloud_bridge.rule_handler import RuleHandler, collision_reason
from tests.bridge.fakes import FakeCloudTransport, FakeHomeAssistant
from tests.helpers.mosquitto import free_port
from tests.helpers.polling import wait_for

SHADE = "cover.bedroom_shade"
FINDING = {
    "kind": "conflict",
    "severity": "certain",
    "entity": SHADE,
    "others": ["Close the shade at seven"],
}


def schedule(rule_id: str = "wake", at: str = "07:00") -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "kind": "schedule",
        "name": "Wake up",
        "trigger": {"type": "time", "at": at},
        "actions": [{"service": "cover.open_cover", "entity_id": SHADE}],
    }


class HomeWithAutomations(FakeHomeAssistant):
    """FakeHomeAssistant whose automation configs become automation entities."""

    def __init__(self) -> None:
        super().__init__()
        self.configs: dict[str, dict[str, Any]] = {}
        self.findings: list[dict[str, Any]] = []
        self.check_error: HAError | None = None

    async def get(self, config_id: str) -> dict[str, Any] | None:
        check_owned(config_id)
        return self.configs.get(config_id)

    async def save(self, config_id: str, config: dict[str, Any]) -> None:
        check_owned(config_id)
        self.configs[config_id] = config
        self.states[f"automation.{config_id}"] = {
            "entity_id": f"automation.{config_id}",
            "state": "on",
            "attributes": {"id": config_id, "friendly_name": config["alias"]},
        }

    async def delete(self, config_id: str) -> bool:
        check_owned(config_id)
        self.states.pop(f"automation.{config_id}", None)
        return self.configs.pop(config_id, None) is not None

    async def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any],
        target: dict[str, Any],
        *,
        return_response: bool = False,
        timeout: float = 10.0,
    ) -> dict[str, Any] | None:
        await super().call_service(domain, service, data, target)
        if (domain, service) == ("inspextor", "check_rule"):
            await asyncio.sleep(0.01)  # HA answers later: other commands run meanwhile
            if self.check_error:
                raise self.check_error
            return {"context": {}, "response": {"findings": self.findings}}
        if domain == "automation":
            state = self.states[target["entity_id"]]
            state["state"] = "on" if service == "turn_on" else "off"
        return None


@pytest.fixture
def home() -> HomeWithAutomations:
    return HomeWithAutomations()


def command(op: str, **fields: Any) -> Any:
    return parse_rule_command(
        rule_packet(command_id=f"r-{op}", contract_id="C", op=op, iat=0.0, **fields)
    )


async def test_every_op_and_the_synced_list(home: HomeWithAutomations) -> None:
    sent: list[list[dict[str, Any]]] = []

    async def sink(rules: list[dict[str, Any]]) -> None:
        sent.append(rules)

    handler = RuleHandler(home, home, sink, settle_timeout=1.0)
    created = await handler.run(command("create", rule=schedule()))
    assert created.status is CommandStatus.SUCCEEDED
    assert created.rule is not None
    assert created.rule["rule"]["trigger"]["at"] == "07:00:00"
    assert home.calls[0][:2] == ("inspextor", "check_rule")
    assert home.calls[0][2]["candidate"]["id"] == "inspextor_cloud_wake"
    again = await handler.run(command("create", rule=schedule()))
    assert (again.status, again.reason) == (
        CommandStatus.REJECTED,
        "cloud rule wake exists (use update)",
    )
    off = await handler.run(command("disable", rule_id="wake"))
    assert off.rule is not None
    assert off.rule["enabled"] is False
    assert (
        "automation",
        "turn_off",
        {},
        {"entity_id": "automation.inspextor_cloud_wake"},
    ) in home.calls
    updated = await handler.run(command("update", rule=schedule(at="08:00")))
    assert updated.rule is not None
    assert updated.rule["rule"]["trigger"]["at"] == "08:00:00"
    listed = await handler.run(command("list"))
    assert [r["rule_id"] for r in listed.rules or []] == ["wake"]
    assert (await handler.run(command("delete", rule_id="wake"))).status is CommandStatus.SUCCEEDED
    missing = await handler.run(command("enable", rule_id="wake"))
    assert (missing.status, missing.reason) == (CommandStatus.FAILED, "no cloud rule wake")
    assert [len(rules) for rules in sent] == [1, 1, 1, 0]  # list sends nothing, no change


async def test_a_conflict_refuses_unless_forced(home: HomeWithAutomations) -> None:
    async def sink(rules: list[dict[str, Any]]) -> None:
        return None

    handler = RuleHandler(home, home, sink, settle_timeout=1.0)
    home.findings = [FINDING]
    refused = await handler.run(command("create", rule=schedule()))
    assert refused.status is CommandStatus.REJECTED
    assert refused.reason == (
        'conflicts with "Close the shade at seven" on cover.bedroom_shade (certain)'
    )
    assert refused.extra()["findings"] == [FINDING]
    assert home.configs == {}
    forced = await handler.run(command("create", rule=schedule(), force=True))
    assert forced.status is CommandStatus.SUCCEEDED
    assert forced.extra()["findings"] == [FINDING]
    home.check_error = HAError("Service inspextor.check_rule not found", "not_found")
    unchecked = await handler.run(command("update", rule=schedule(at="09:00")))
    assert unchecked.status is CommandStatus.FAILED
    assert unchecked.reason == (
        "cannot check the rule for conflicts: Service inspextor.check_rule not found"
    )
    assert home.configs["inspextor_cloud_wake"]["triggers"][0]["at"] == "07:00:00"


def test_collision_reason_names_loops_and_shadowed_rules() -> None:
    loop = {"kind": "loop", "entity": "light.x", "others": ["A"], "severity": "possible"}
    shadowed = {"kind": "shadowed", "entity": "light.x", "severity": "certain"}
    assert collision_reason([loop, shadowed]) == (
        'loops with "A" on light.x (possible); shadowed: itself on light.x (certain)'
    )


async def test_an_ha_edit_of_our_automation_is_synced_once(home: HomeWithAutomations) -> None:
    sent: list[list[dict[str, Any]]] = []

    async def sink(rules: list[dict[str, Any]]) -> None:
        sent.append(rules)

    handler = RuleHandler(home, home, sink, settle_timeout=1.0)
    await handler.run(command("create", rule=schedule()))
    home.configs["inspextor_cloud_wake"]["alias"] = "Edited in HA"
    handler.on_state("light.kitchen", None)  # not an automation: nothing
    handler.on_state("automation.mine", {"attributes": {"id": "user_one"}})  # not ours
    assert handler._sync_task is None
    handler.on_state(
        "automation.inspextor_cloud_wake", home.states["automation.inspextor_cloud_wake"]
    )
    assert handler._sync_task is not None
    await handler._sync_task
    assert sent[-1][0]["alias"] == "Edited in HA"
    await handler.sync_now()
    assert len(sent) == 2  # unchanged: not sent again
    await handler.stop()


def test_rest_base_for_ha_and_the_supervisor_proxy() -> None:
    assert rest_base("ws://127.0.0.1:8123/api/websocket") == "http://127.0.0.1:8123/api"
    assert rest_base("ws://supervisor/core/websocket") == "http://supervisor/core/api"
    assert rest_base("wss://home.example/api/websocket/") == "https://home.example/api"


async def test_rest_adapter_speaks_ha_s_editor_api_and_refuses_other_ids() -> None:
    stored: dict[str, Any] = {}
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path} {request.headers['Authorization']}")
        key = request.match_info["id"]
        if request.method == "POST":
            body = await request.json()
            if "triggers" not in body:
                return web.json_response({"message": "Message malformed: triggers"}, status=400)
            stored[key] = body
            return web.json_response({"result": "ok"})
        if key not in stored:
            return web.json_response({"message": "Resource not found"}, status=404)
        if request.method == "DELETE":
            del stored[key]
            return web.json_response({"result": "ok"})
        return web.json_response(stored[key])

    app = web.Application()
    app.router.add_route("*", "/api/config/automation/config/{id}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            api = RestAutomationConfigs(session, f"ws://127.0.0.1:{port}/api/websocket", "tok")
            config = {"id": "inspextor_cloud_a", "triggers": [], "actions": []}
            assert await api.get("inspextor_cloud_a") is None
            await api.save("inspextor_cloud_a", config)
            assert await api.get("inspextor_cloud_a") == config
            with pytest.raises(HAError, match="Message malformed"):
                await api.save("inspextor_cloud_b", {"id": "inspextor_cloud_b"})
            with pytest.raises(HAError, match="must be the id"):
                await api.save("inspextor_cloud_c", config)
            for bad in ("user_automation", "inspextor_cloud_", "inspextor_cloud_a/../b"):
                with pytest.raises(HAError, match="refusing to touch"):
                    await api.delete(bad)
            assert await api.delete("inspextor_cloud_a") is True
            assert await api.delete("inspextor_cloud_a") is False
            closed = RestAutomationConfigs(session, "ws://127.0.0.1:1/api/websocket", "tok", 2)
            with pytest.raises(HAError, match="automation config API failed"):
                await closed.get("inspextor_cloud_a")
    finally:
        await runner.cleanup()
    assert all(line.endswith("Bearer tok") for line in seen)
    assert json.dumps(stored) == "{}"
    await asyncio.sleep(0)


async def test_user_automations_are_listed_read_only_only_when_exposed(
    home: HomeWithAutomations,
) -> None:
    sent: list[list[dict[str, Any]]] = []

    async def sink(rules: list[dict[str, Any]]) -> None:
        sent.append(rules)

    user = {
        "id": "mine",
        "alias": "My evening lights",
        "triggers": [{"trigger": "sun", "event": "sunset"}],
        "actions": [{"action": "light.turn_on", "target": {"entity_id": "light.x"}}],
    }
    odd = {"id": "odd", "alias": "Odd", "triggers": [{"trigger": "event", "event_type": "x"}]}
    configs = {"automation.mine": user, "automation.odd": odd}
    for entity_id, config in configs.items():
        home.states[entity_id] = {
            "entity_id": entity_id,
            "state": "on",
            "attributes": {"id": config["id"]},
        }

    async def read(entity_id: str) -> dict[str, Any] | None:
        return configs.get(entity_id)

    hidden = RuleHandler(home, home, sink, settle_timeout=1.0)
    hidden.on_state("automation.mine", home.states["automation.mine"])
    assert hidden._sync_task is None  # a user automation changing: nothing to send
    await hidden.sync_now()
    assert sent[-1] == []
    shown = RuleHandler(home, home, sink, settle_timeout=1.0, user_rules=read)
    await shown.sync_now()
    mine, other = sent[-1]
    assert (mine["owner"], mine["read_only"], mine["alias"]) == ("user", True, "My evening lights")
    assert mine["rule"]["trigger"] == {"type": "sun", "event": "sunset", "offset": 0}
    assert mine["rule"]["rule_id"] is None
    assert (other["alias"], other["rule"]) == ("Odd", None)
    shown.on_state("automation.mine", home.states["automation.mine"])
    assert shown._sync_task is not None
    await shown.stop()


async def test_concurrent_creates_of_one_rule_save_it_once(home: HomeWithAutomations) -> None:
    """Two copies of a create racing (two apps): one succeeds, the other hears it exists."""

    async def sink(rules: list[dict[str, Any]]) -> None:
        return None

    handler = RuleHandler(home, home, sink, settle_timeout=1.0)
    first, second = await asyncio.gather(
        handler.run(command("create", rule=schedule())),
        handler.run(
            parse_rule_command(
                rule_packet(
                    command_id="r-other", contract_id="C", op="create", iat=0.0, rule=schedule()
                )
            )
        ),
    )
    assert sorted([first.status, second.status]) == [
        CommandStatus.REJECTED,
        CommandStatus.SUCCEEDED,
    ]
    assert sum(call[:2] == ("inspextor", "check_rule") for call in home.calls) == 1


async def test_a_connect_reads_ha_s_states_once_for_the_resync_and_the_rules(
    home: HomeWithAutomations, tmp_path
) -> None:
    # a large home's states are tens of megabytes parsed: the rules sync after a connect
    # takes its automations from the resync's read instead of reading them all again
    await home.save("inspextor_cloud_wake", {"alias": "Wake up"})
    home.set("light.kitchen", "on")
    options = {
        "contract_id": "C-7",
        "instance_id": "home-7",
        "instance_password": "pw-7777",
        "transport": "mqtt",
        "endpoint": "127.0.0.1",
        "ha_token": "token-7",
        "data_dir": str(tmp_path),
        "ping_interval": 0,
    }
    transport = FakeCloudTransport()
    bridge = build_bridge(
        parse_options(options, {}),
        transport=transport,
        ha=home,
        api_token="t",
        serve_api=False,
        automations=home,
    )

    def synced_rules() -> list[dict[str, Any]]:
        packets = [p for t, p in transport.published if t.endswith("send_sync_query_high")]
        records = [r for p in packets for r in unpack(p) if r.get("kind") == "rules"]
        return records[-1]["rules"] if records else []

    await bridge.start()
    try:
        rules = await wait_for(synced_rules, what="the cloud rules")
        assert [r["alias"] for r in rules] == ["Wake up"]
        assert bridge.resyncs == 1
        assert home.state_reads == 1
    finally:
        await bridge.stop()
