"""The daemon entry point and the CLI that talks to a running bridge."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from cloud_bridge.__main__ import exit_code, main
from cloud_bridge.app import make_transport, run
from cloud_bridge.config import parse_options
from cloud_bridge.transport.awsiot import AwsIotTransport
from cloud_bridge.transport.mqtt import MqttTransport
from tests.bridge.bridge_fixtures import (
    CONTRACT,
    BridgeHarness,
    bridge_config,
    start_cloud_peer,
    success_reply,
)
from tests.helpers.polling import wait_for


def cli_config(tmp_path: Path, h: BridgeHarness) -> Path:
    path = tmp_path / "cli.yaml"
    options = {
        "contract_id": CONTRACT,
        "instance_id": "home-1",
        "instance_password": "instance-secret-pw",
        "transport": "mqtt",
        "endpoint": "127.0.0.1",
        "ha_token": "x-token",
        "data_dir": str(tmp_path),
        "api_port": h.config.api_port,
        "api_token": "local-api-token",
        "activation_timeout": 0.5,
    }
    path.write_text(json.dumps(options))  # JSON is valid YAML
    return path


async def test_cli_actions_reach_the_running_bridge(
    tmp_path: Path, harness: BridgeHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    config = cli_config(tmp_path, harness)
    assert await asyncio.to_thread(main, ["status", "--config", str(config)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["cloud_connected"] is True
    harness.cloud.activation_replies = [success_reply()]
    assert await asyncio.to_thread(main, ["activate", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["success"] is True
    harness.cloud.answer_pings = False
    assert await asyncio.to_thread(main, ["ping", "--config", str(config)]) == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False


def test_cli_reports_config_errors_and_unreachable_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"contract_id": "C", "keepalive": 5}))
    assert main(["status", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "config error: keepalive: must be between 30 and 60" in err
    assert "config error: instance_id: required" in err
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "contract_id": "C",
                "instance_id": "i",
                "instance_password": "p-123",
                "transport": "mqtt",
                "endpoint": "localhost",
                "ha_token": "t-123",
                "data_dir": str(tmp_path),
                "api_port": 1,
            }
        )
    )
    assert main(["resync", "--config", str(good)]) == 1
    assert "cannot reach the bridge's local API" in capsys.readouterr().err
    assert (tmp_path / "api_token").exists()  # generated once for the CLI and the bridge


def test_make_transport(tmp_path: Path) -> None:
    base = {
        "contract_id": "C",
        "instance_id": "i",
        "instance_password": "p-123",
        "endpoint": "example.com",
        "ha_token": "t-123",
    }
    assert isinstance(make_transport(parse_options({**base, "transport": "mqtt"})), MqttTransport)
    tls = make_transport(parse_options({**base, "transport": "mqtt", "mqtt_tls": True}))
    assert isinstance(tls, MqttTransport)
    aws = make_transport(parse_options(base))
    assert isinstance(aws, AwsIotTransport)


async def test_run_serves_until_stopped(tmp_path: Path, broker, fake_ha) -> None:
    config = bridge_config(tmp_path / "data", broker, fake_ha)
    peer = await start_cloud_peer(broker)
    fake_ha.add_entity("light.kitchen", platform="inspextor")
    fake_ha.set_state("light.kitchen", "on")
    stop = asyncio.Event()
    root = logging.getLogger()
    level = root.level
    task = asyncio.create_task(run(config, stop))
    try:
        await wait_for(lambda: peer.records("high"), timeout=10, what="the bridge syncing")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        for handler in root.handlers:
            for flt in list(handler.filters):
                handler.removeFilter(flt)
        root.setLevel(level)
        await peer.transport.disconnect()
    assert (tmp_path / "data" / "bridge.sqlite3").exists()


def test_cli_exit_code_says_whether_the_action_worked() -> None:
    """Scripts can tell a refused activation from a done one, and both from a broken API."""
    assert exit_code(200, {"success": True, "action": "activate"}) == 0
    assert exit_code(200, {"cloud_connected": True}) == 0
    assert exit_code(200, {"success": False, "reason": "subscription is expired"}) == 3
    assert exit_code(401, {"error": "unauthorized"}) == 1


def test_a_failed_rotation_exits_3() -> None:
    assert exit_code(200, {"ok": False, "reason": "trial connection failed"}) == 3
    assert exit_code(200, {"ok": True, "reason": None}) == 0
