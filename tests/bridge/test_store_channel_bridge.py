"""The store channel inside a running bridge: a real broker carries the nudge, the real HA
WebSocket client carries the service call, the result lands in the folder store."""

from __future__ import annotations

import json
from pathlib import Path

from cloud_bridge.store_channel.nudge import is_nudge, nudge_packet
from tests.bridge.bridge_fixtures import CONTRACT, start_harness
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for

STORE_OPTIONS = {
    "store_channel": True,
    "store_poll_interval": 3600,  # only the nudge can make it poll again in this test
    "store_status_interval": 0,
}


def _folder(tmp_path: Path, store: str) -> Path:
    return tmp_path / "stores" / "inspextor" / store / "inspextor"


async def test_a_nudge_over_mqtt_runs_the_command_file_at_once(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA
) -> None:
    fake_ha.set_state("light.kitchen", "off")
    async with start_harness(tmp_path, broker, fake_ha, **STORE_OPTIONS) as harness:
        bridge = harness.bridge
        await bridge.set_exposure(["light.kitchen"])
        channel = bridge.store_channel
        assert channel is not None
        await wait_for(lambda: channel.counts.get("absent"), what="the first poll")
        incoming = _folder(tmp_path, "incoming")
        incoming.mkdir(parents=True, exist_ok=True)
        command = "call_service('light.turn_on', 'light.kitchen', {'brightness': 99})"
        (incoming / "commands.json").write_text(json.dumps([{"command": command}]))
        await harness.cloud.send_action(nudge_packet(CONTRACT, "inspextor/commands.json"))
        result_file = _folder(tmp_path, "status") / "last_monitoring_status.json"
        await wait_for(result_file.exists, timeout=10, what="the result file")
        result = json.loads(result_file.read_text())
        assert [c["status"] for c in result["commands"]] == ["ok"]
        calls = [c for c in fake_ha.service_calls if c.domain == "light"]
        assert len(calls) == 1
        assert calls[0].data == {"brightness": 99}
        status = await bridge.status()
        assert status["store_channel"]["polls"]["ran"] == 1
        assert harness.cloud.on_topic("inx/instance/return") == []  # a nudge is no command


def test_only_a_nudge_for_this_contract_is_one() -> None:
    good = json.dumps(nudge_packet(CONTRACT, "k")).encode()
    assert is_nudge(good, CONTRACT)
    assert not is_nudge(good, "C-other")
    assert not is_nudge(b'{"c": "Store", "a": "call_service"}', CONTRACT)
    assert not is_nudge(b'"Store" but not json', CONTRACT)
    assert not is_nudge(b'{"c": "Command", "a": "call_service"}', CONTRACT)
