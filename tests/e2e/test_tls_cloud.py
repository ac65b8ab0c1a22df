"""The production cloud path end to end: the bridge's awsiotsdk transport over mutual TLS.

A Mosquitto broker that requires client certificates plays AWS IoT Core; the dev cloud
reaches it over mutual TLS too (`--ca-file/--cert-file/--key-file`); the bridge runs as
`python -m cloud_bridge run` with `transport: aws_iot`, as the add-on runs it. Home
Assistant is the WebSocket fake (HA's wire format): the path under test is the cloud's,
and the full stack with a real hass is tests/e2e/test_stack.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import json
from pathlib import Path
import sys
from typing import Any

import aiohttp
import pytest

from tests.helpers.certs import PKI, make_pki
from tests.helpers.fake_ha import FakeHA, running_fake_ha
from tests.helpers.mosquitto import Broker, free_port, mosquitto_path, running_broker

pytestmark = pytest.mark.e2e

CONTRACT, INSTANCE, PASSWORD = "C-3003", "home-3", "tls-instance-pass"
TOKEN = "tls-api-token"


async def poll(condition: Any, timeout: float, what: str) -> Any:
    """Await `condition()` (a coroutine function) until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while not (value := await condition()):
            await asyncio.sleep(0.2)
    assert value, what
    return value


@dataclass
class Running:
    """The processes of one run and how to reach them."""

    broker: Broker
    ha: FakeHA
    options: Path
    bridge_log: Path
    cloud_url: str
    bridge_url: str


async def _spawn(log: Path, *args: str) -> asyncio.subprocess.Process:
    handle = log.open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=handle, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        handle.close()


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _bridge_options(tmp_path: Path, pki: PKI, broker: Broker, ha: FakeHA) -> Path:
    options = {
        "contract_id": CONTRACT,
        "instance_id": INSTANCE,
        "instance_password": PASSWORD,
        "name": "TLS home",
        "transport": "aws_iot",
        "endpoint": "localhost",  # the name on the broker's certificate
        "port": broker.port,
        "cert_file": str(pki.client_cert),
        "key_file": str(pki.client_key),
        "ca_file": str(pki.ca),
        "ha_url": ha.url,
        "ha_token": ha.token,
        "data_dir": str(tmp_path / "bridge-data"),
        "api_port": free_port(),
        "api_token": TOKEN,
        "high_window": 0.1,
        "ping_interval": 0,
    }
    (tmp_path / "bridge-data").mkdir()
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options))
    return path


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    pki = make_pki(tmp_path)
    cloud_port = free_port()
    with running_broker(tls=pki.broker_files) as broker:
        async with running_fake_ha() as ha:
            ha.add_entity("light.porch", platform="inspextor")
            ha.set_state("light.porch", "off")
            cloud = await _spawn(
                tmp_path / "devcloud.log",
                *("-m", "devkit.devcloud", "serve", "--broker", f"127.0.0.1:{broker.port}"),
                *("--ca-file", str(pki.ca), "--cert-file", str(pki.client_cert)),
                *("--key-file", str(pki.client_key), "--db", str(tmp_path / "cloud.sqlite3")),
                *("--http-port", str(cloud_port)),
                *("--contract", f"{CONTRACT}:{INSTANCE}:{PASSWORD}:active:2030-12-31"),
            )
            options = _bridge_options(tmp_path, pki, broker, ha)
            bridge_log = tmp_path / "bridge.log"
            bridge = await _spawn(bridge_log, "-m", "cloud_bridge", "run", "--config", str(options))
            api_port = json.loads(options.read_text())["api_port"]
            try:
                yield Running(
                    broker,
                    ha,
                    options,
                    bridge_log,
                    f"http://127.0.0.1:{cloud_port}",
                    f"http://127.0.0.1:{api_port}",
                )
            finally:
                await _stop(bridge)
                await _stop(cloud)


async def _get(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> Any:
    with contextlib.suppress(aiohttp.ClientError):
        async with session.get(url, **kwargs) as resp:
            if resp.status == 200:
                return await resp.json()
    return None


async def test_awsiotsdk_over_mutual_tls_to_the_dev_cloud(running: Running) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:

        async def connected() -> Any:
            status = await _get(session, f"{running.bridge_url}/api/status", headers=auth)
            return status if status and status["cloud_connected"] else None

        status = await poll(connected, 60, "the bridge connected over mutual TLS")
        assert status["last_error"] is None
        activate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cloud_bridge",
            "activate",
            "--config",
            str(running.options),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await activate.communicate()
        assert activate.returncode == 0, out.decode()
        assert json.loads(out)["success"] is True

        async def porch() -> Any:
            home = await _get(session, f"{running.cloud_url}/api/homes/{CONTRACT}/entities")
            found = [e for e in (home or {}).get("entities", []) if e["entity_id"] == "light.porch"]
            return found[0] if found else None

        assert (await poll(porch, 30, "the light's state in the dev cloud"))["state"] == "off"
        async with session.put(
            f"{running.bridge_url}/api/exposure", headers=auth, json={"entities": ["light.porch"]}
        ) as resp:
            assert resp.status == 200
        async with session.post(
            f"{running.cloud_url}/api/homes/{CONTRACT}/commands",
            json={"service": "light.turn_on", "entity_id": "light.porch"},
        ) as resp:
            command_id = (await resp.json())["id"]

        async def finished() -> Any:
            command = await _get(session, f"{running.cloud_url}/api/commands/{command_id}")
            statuses = [r["status"] for r in (command or {}).get("results", [])]
            return statuses if "succeeded" in statuses or "failed" in statuses else None

        assert await poll(finished, 30, "the command's result") == ["accepted", "succeeded"]
    assert [c.entity_ids for c in running.ha.calls("light", "turn_on")] == [["light.porch"]]
    log = running.bridge_log.read_text()
    assert f"connected to the cloud at localhost:{running.broker.port} as client id home-3" in log
    assert "did not return a certificate" not in running.broker.log
