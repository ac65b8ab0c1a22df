"""The dev cloud's HTTP API, Server-Sent Events, page, and the mobile CLI (subprocess)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import os
from pathlib import Path
import signal
import sys
from typing import Any

import aiohttp
import pytest

from cloud_bridge.protocol.action_packets import CommandStatus, parse_command
from cloud_bridge.protocol.records import Lane
from devkit.devcloud import DevCloud
from tests.helpers.devcloud_fixtures import cloud, home, url
from tests.helpers.devcloud_home import KITCHEN_STRUCTURE, Home
from tests.helpers.mosquitto import Broker, free_port
from tests.helpers.polling import wait_for
from tests.helpers.sim_fixtures import broker, observer
from tests.helpers.sim_observer import Observer

__all__ = ["broker", "cloud", "home", "observer", "url"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def synced_home(home: Home, cloud: DevCloud) -> None:
    """The home has sent its structure and states, and the cloud applied them."""
    events = cloud.listen()
    home.send(
        Lane.STRUCTURE,
        [
            home.structure(
                areas=KITCHEN_STRUCTURE["areas"],
                devices=KITCHEN_STRUCTURE["devices"],
                entities=KITCHEN_STRUCTURE["entities"],
            )
        ],
    )
    home.send(
        Lane.HIGH,
        [
            home.state(Lane.HIGH, "light.kitchen", "off"),
            home.state(Lane.HIGH, "cover.living_shade", "closed", current_position=0),
        ],
    )
    home.send(Lane.LOW, [home.state(Lane.LOW, "sensor.hall_temperature", "21.5")])
    for _ in range(4):
        await asyncio.wait_for(events.get(), 30)
    cloud.unlisten(events)


def answer_commands(home: Home, observer: Observer) -> asyncio.Task[None]:
    """Play the bridge: accept and succeed every command for the home, with the new state."""

    async def run() -> None:
        done: set[str] = set()
        while True:
            for message in list(observer.on(home.topics.action)):
                command = parse_command(message.payload)
                if command.id in done:
                    continue
                done.add(command.id)
                home.result(command.id, CommandStatus.ACCEPTED)
                await asyncio.sleep(0.05)
                state = {
                    "entity_id": command.entity_id,
                    "state": "on",
                    "attributes": dict(command.data),
                }
                home.result(command.id, CommandStatus.SUCCEEDED, state=state)
            await asyncio.sleep(0.02)

    return asyncio.get_running_loop().create_task(run())


async def test_api_lists_homes_and_entities(
    url: str, http: aiohttp.ClientSession, home: Home, cloud: DevCloud
) -> None:
    await synced_home(home, cloud)
    async with http.get(f"{url}/api/homes") as response:
        homes = await response.json()
    assert [h["contract_id"] for h in homes] == ["C1", "C2", "C3"]
    assert homes[0]["subscription"] == {"state": "active", "expires": "2027-01-01T00:00:00Z"}
    async with http.get(f"{url}/api/homes/C1/entities") as response:
        body = await response.json()
    by_id = {e["entity_id"]: e for e in body["entities"]}
    assert by_id["light.kitchen"]["area"] == "Kitchen"
    assert by_id["light.kitchen"]["state"] == "off"
    assert by_id["cover.living_shade"]["attributes"] == {"current_position": 0}
    assert by_id["sensor.hall_temperature"]["area"] is None
    async with http.get(f"{url}/api/homes/C9/entities") as response:
        assert response.status == 404


async def test_api_sends_a_command_and_tracks_it(
    url: str, http: aiohttp.ClientSession, home: Home, observer: Observer
) -> None:
    responder = answer_commands(home, observer)
    try:
        body = {"service": "light.turn_on", "entity_id": "light.kitchen", "data": {"brightness": 9}}
        async with http.post(f"{url}/api/homes/C1/commands", json=body) as response:
            assert response.status == 202
            command = await response.json()
        assert command["origin"] == "cloud_ui"

        async def final() -> dict[str, Any] | None:
            async with http.get(f"{url}/api/commands/{command['id']}") as response:
                tracked: dict[str, Any] = await response.json()
            return tracked if tracked["final"] else None

        tracked = await wait_for(final, what="the command's final result")
        assert [r["status"] for r in tracked["results"]] == ["accepted", "succeeded"]
        assert tracked["results"][1]["state"]["attributes"] == {"brightness": 9}
    finally:
        responder.cancel()


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/homes/C1/commands", "not json", 400),
        pytest.param(  # nesting deeper than Python's recursion limit
            "/api/homes/C1/commands", "[" * 20_000 + "]" * 20_000, 400, id="deep-nesting"
        ),
        ("/api/homes/C1/commands", [], 400),
        ("/api/homes/C1/commands", {"service": "light.turn_on"}, 400),
        ("/api/homes/C1/commands", {"service": "a.b", "entity_id": "a.c", "data": 1}, 400),
        ("/api/homes/C1/commands", {"service": "a.b", "entity_id": "a.c", "ttl": 0}, 400),
        ("/api/homes/C1/commands", {"service": "a.b", "entity_id": "a.c", "origin": "x"}, 400),
        ("/api/homes/C9/commands", {"service": "a.b", "entity_id": "a.c"}, 404),
    ],
)
async def test_api_refuses_bad_commands(
    url: str, http: aiohttp.ClientSession, path: str, body: Any, status: int
) -> None:
    data = body if isinstance(body, str) else json.dumps(body)
    async with http.post(f"{url}{path}", data=data) as response:
        assert response.status == status
    async with http.get(f"{url}/api/commands/cmd-nope") as response:
        assert response.status == 404


async def test_page_is_served_and_events_are_pushed(
    url: str, http: aiohttp.ClientSession, home: Home, cloud: DevCloud
) -> None:
    async with http.get(f"{url}/") as response:
        assert response.content_type == "text/html"
        page = await response.text()
    for needle in ('"data-entity-id"', '"toggle"', '"position"', 'EventSource("/api/events")'):
        assert needle in page

    async with http.get(f"{url}/api/events") as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert await stream.content.readline() == b": connected\n"
        await stream.content.readline()
        home.send(Lane.HIGH, [home.state(Lane.HIGH, "light.kitchen", "on", brightness=200)])
        line = await asyncio.wait_for(stream.content.readline(), 30)
        event = json.loads(line.decode().removeprefix("data: "))
    assert event["type"] == "record"
    assert event["record"]["entity_id"] == "light.kitchen"
    assert event["record"]["attributes"] == {"brightness": 200}


async def run_cli(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devkit.devcloud",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_mobile_cli_lists_and_sends(
    url: str, home: Home, cloud: DevCloud, observer: Observer
) -> None:
    await synced_home(home, cloud)
    code, out, _ = await run_cli("mobile", "--url", url, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "[Kitchen]"
    assert lines[1].split()[:2] == ["light.kitchen", "off"]
    assert "[Living room]" in lines
    assert any(line.split()[:2] == ["sensor.hall_temperature", "21.5"] for line in lines)

    responder = answer_commands(home, observer)
    watcher = asyncio.create_task(run_cli("mobile", "--url", url, "watch", "--count", "2"))
    try:
        await asyncio.sleep(1.0)  # let the watcher subscribe to the event stream
        code, out, err = await run_cli(
            "mobile",
            "--url",
            url,
            "send",
            "light.turn_on",
            "light.kitchen",
            "--data",
            '{"brightness":128}',
        )
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith("command cmd-")
        assert lines[1:] == ["accepted", "succeeded -> light.kitchen=on brightness=128"]
        command = parse_command(observer.on("inx/C1/action")[0].payload)
        assert command.origin == "mobile"
        code, watched, _ = await watcher
        assert code == 0
        assert watched.splitlines() == [
            f"{command.id} accepted",
            f"{command.id} succeeded -> light.kitchen=on brightness=128",
        ]
    finally:
        responder.cancel()
        watcher.cancel()

    code, _, err = await run_cli("mobile", "--url", url, "--home", "C9", "send", "a.b", "a.c")
    assert code == 1
    assert "404" in err
    code, _, err = await run_cli("mobile", "--url", url, "send", "a.b", "a.c", "--data", "[1]")
    assert code == 2


async def test_serve_command_line(broker: Broker, tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devkit.devcloud",
        "serve",
        "--broker",
        f"{broker.host}:{broker.port}",
        "--db",
        str(tmp_path / "cloud.db"),
        "--http-port",
        str(port),
        "--contract",
        "H1:I1:pw:active:2027-01-01",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.decode().strip() == f"READY http://127.0.0.1:{port}"
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/api/homes") as response,
        ):
            homes = await response.json()
        assert [h["contract_id"] for h in homes] == ["H1"]
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_command_without_cloud_broker_is_refused_clearly(
    url: str, http: aiohttp.ClientSession, cloud: DevCloud, broker: Broker
) -> None:
    broker.stop()
    for _ in range(200):
        if not cloud.client.connected:
            break
        await asyncio.sleep(0.02)
    body = {"service": "light.turn_on", "entity_id": "light.kitchen"}
    async with http.post(f"{url}/api/homes/C1/commands", json=body) as response:
        assert response.status == 503
        assert "broker" in (await response.json())["error"]


def test_serve_checks_its_tls_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from devkit.devcloud.__main__ import main, tls_context

    db = str(tmp_path / "cloud.db")
    assert main(["serve", "--cert-file", str(tmp_path / "c.pem"), "--db", db]) == 2
    assert "--cert-file and --key-file need --ca-file" in capsys.readouterr().err
    assert main(["serve", "--ca-file", str(tmp_path / "missing-ca.pem"), "--db", db]) == 2
    assert "cannot use the TLS files" in capsys.readouterr().err
    assert tls_context(None, None, None) is None
