"""HAWebSocketClient against a real aiohttp server speaking HA's WebSocket API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import gc
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from cloud_bridge.ha.base import HAError
from cloud_bridge.ha.client import HAWebSocketClient
from tests.helpers.fake_ha import FakeHA, ServiceCall, running_fake_ha
from tests.helpers.mosquitto import free_port
from tests.helpers.polling import wait_for

type JSON = dict[str, Any]


class Recorder:
    """What the client hands to the bridge."""

    def __init__(self) -> None:
        self.states: list[tuple[str, JSON | None]] = []
        self.connected = 0
        self.slow_connected: asyncio.Event | None = None

    def on_state(self, entity_id: str, state: JSON | None) -> None:
        self.states.append((entity_id, state))

    async def on_connected(self) -> None:
        self.connected += 1
        if self.slow_connected is not None:
            await self.slow_connected.wait()


@pytest.fixture
async def ha() -> AsyncIterator[FakeHA]:
    async with running_fake_ha() as fake:
        fake.set_state("light.kitchen", "off", {"friendly_name": "Kitchen"})
        fake.set_state("cover.shade", "closed", {"current_position": 0})
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


type Factory = Callable[..., Awaitable[tuple[HAWebSocketClient, Recorder]]]


@pytest.fixture
async def connect(session: aiohttp.ClientSession) -> AsyncIterator[Factory]:
    made: list[HAWebSocketClient] = []

    async def make(url: str, token: str, **kwargs: Any) -> tuple[HAWebSocketClient, Recorder]:
        kwargs.setdefault("reconnect_min", 0.02)
        kwargs.setdefault("reconnect_max", 0.2)
        client = HAWebSocketClient(session, url, token, **kwargs)
        rec = Recorder()
        client.set_handlers(rec.on_state, rec.on_connected)
        made.append(client)
        await client.start()
        return client, rec

    yield make
    for client in made:
        await client.stop()


def holders_of(obj: object) -> list[dict[str, Any]]:
    """The HA messages (parsed) still holding `obj` as their result."""
    return [o for o in gc.get_objects() if isinstance(o, dict) and o.get("result") is obj]


async def test_an_answer_is_not_kept_once_returned(ha: FakeHA, connect: Factory) -> None:
    # a large home's get_states answer is tens of megabytes parsed: the client must not
    # hold it (nor its text) while the socket is idle, only the caller may
    client, _ = await connect(ha.url, ha.token)
    states = await client.get_states()
    assert len(states) == 2
    assert holders_of(states) == []
    registry = await client.get_registry()
    assert holders_of(registry.entities) == []


async def test_authenticates_and_reads_states_and_registry(ha: FakeHA, connect: Factory) -> None:
    ha.add_area("kitchen", "Kitchen")
    ha.add_device("dev1", "Ceiling light", area_id="kitchen")
    ha.add_entity("light.kitchen", device_id="dev1")
    client, rec = await connect(ha.url, ha.token)
    assert client.connected
    assert rec.connected == 1
    assert client.last_error is None

    states = await client.get_states()
    assert {s["entity_id"] for s in states} == {"light.kitchen", "cover.shade"}
    kitchen = await client.get_state("light.kitchen")
    assert kitchen is not None
    assert kitchen["state"] == "off"
    assert kitchen["attributes"]["friendly_name"] == "Kitchen"
    assert await client.get_state("light.nowhere") is None

    registry = await client.get_registry()
    assert [a["area_id"] for a in registry.areas] == ["kitchen"]
    assert [d["id"] for d in registry.devices] == ["dev1"]
    assert registry.entities[0]["entity_id"] == "light.kitchen"
    assert registry.entities[0]["device_id"] == "dev1"
    await client.ping()


async def test_rejected_token_is_clear_and_not_retried_in_a_storm(
    ha: FakeHA, connect: Factory
) -> None:
    client, rec = await connect(ha.url, "wrong-token", auth_retry=30)
    assert not client.connected
    assert rec.connected == 0
    assert client.last_error is not None
    assert client.last_error.code == "invalid_auth"
    assert str(client.last_error) == "Home Assistant rejected the access token"
    await asyncio.sleep(0.5)  # with a 0.02 s reconnect backoff a storm would show here
    assert ha.auth_attempts == 1
    with pytest.raises(HAError) as err:
        await client.get_states()
    assert err.value.code == "not_connected"


async def test_call_service_records_call_and_state_change_follows(
    ha: FakeHA, connect: Factory
) -> None:
    client, rec = await connect(ha.url, ha.token)
    result = await client.call_service(
        "light", "turn_on", {"brightness": 128}, {"entity_id": "light.kitchen"}
    )
    assert result is not None
    assert "context" in result
    assert "response" not in result
    [call] = ha.calls("light", "turn_on")
    assert call.data == {"brightness": 128}
    assert call.target == {"entity_id": "light.kitchen"}
    await wait_for(lambda: any(e == "light.kitchen" for e, _ in rec.states))
    assert rec.states[-1][0] == "light.kitchen"
    state = rec.states[-1][1]
    assert state is not None
    assert state["state"] == "on"
    assert state["attributes"]["brightness"] == 128


async def test_call_service_return_response(ha: FakeHA, connect: Factory) -> None:
    ha.service_response("weather", "get_forecasts", {"weather.home": {"forecast": []}})
    client, _ = await connect(ha.url, ha.token)
    result = await client.call_service(
        "weather", "get_forecasts", {"type": "daily"}, {}, return_response=True
    )
    assert result is not None
    assert result["response"] == {"weather.home": {"forecast": []}}
    assert ha.calls("weather")[0].return_response is True


async def test_call_service_error_carries_ha_message_and_code(ha: FakeHA, connect: Factory) -> None:
    ha.fail_service("cover", "open_cover", "Motor jammed")
    ha.fail_service("light", "explode", "Service light.explode not found.", code="not_found")
    client, _ = await connect(ha.url, ha.token)
    with pytest.raises(HAError) as err:
        await client.call_service("cover", "open_cover", {}, {"entity_id": "cover.shade"})
    assert str(err.value) == "Motor jammed"
    assert err.value.code == "home_assistant_error"
    with pytest.raises(HAError) as err:
        await client.call_service("light", "explode", {}, {})
    assert err.value.code == "not_found"
    ha.heal_service("cover", "open_cover")
    await client.call_service("cover", "open_cover", {}, {"entity_id": "cover.shade"})
    await wait_for(lambda: ha.states["cover.shade"]["state"] == "open")


async def test_call_service_timeout_leaves_client_usable(ha: FakeHA, connect: Factory) -> None:
    ha.slow_service("cover", "open_cover", 5)
    client, _ = await connect(ha.url, ha.token)
    with pytest.raises(HAError) as err:
        await client.call_service(
            "cover", "open_cover", {}, {"entity_id": "cover.shade"}, timeout=0.2
        )
    assert err.value.code == "timeout"
    assert "call_service" in str(err.value)
    assert client.connected
    assert len(await client.get_states()) == 2


async def test_unknown_command_error(ha: FakeHA, connect: Factory) -> None:
    client, _ = await connect(ha.url, ha.token)
    with pytest.raises(HAError) as err:
        await client._request({"type": "no/such/command"})
    assert err.value.code == "unknown_command"


async def test_state_changes_and_removals_are_delivered(ha: FakeHA, connect: Factory) -> None:
    _, rec = await connect(ha.url, ha.token)
    ha.set_state("sensor.temp", "21.5", {"unit_of_measurement": "°C"})
    ha.remove_state("cover.shade")
    await wait_for(lambda: len(rec.states) == 2)
    (first_id, first), (second_id, second) = rec.states
    assert first_id == "sensor.temp"
    assert first is not None
    assert first["state"] == "21.5"
    assert (second_id, second) == ("cover.shade", None)


async def test_cover_moves_through_opening_to_open(ha: FakeHA, connect: Factory) -> None:
    client, rec = await connect(ha.url, ha.token)
    await client.call_service(
        "cover", "set_cover_position", {"position": 40}, {"entity_id": "cover.shade"}
    )
    await wait_for(lambda: bool(rec.states) and rec.states[-1][1]["state"] == "open")  # type: ignore[index]
    seen = [(s["state"], s["attributes"].get("current_position")) for _, s in rec.states if s]
    assert seen[0] == ("opening", 0)
    assert ("opening", 20) in seen
    assert seen[-1] == ("open", 40)


async def test_reconnects_after_drop_then_resnapshots_and_resubscribes(
    ha: FakeHA, connect: Factory
) -> None:
    client, rec = await connect(ha.url, ha.token)
    await ha.drop_connections()
    await wait_for(lambda: rec.connected == 2)
    assert client.connected
    assert ha.connections_accepted == 2
    ha.set_state("light.kitchen", "on")
    await wait_for(lambda: rec.states and rec.states[-1][0] == "light.kitchen")

    await ha.restart()  # HA restarting: nobody listens for a moment
    await wait_for(lambda: rec.connected == 3)
    ha.set_state("light.kitchen", "off")
    await wait_for(lambda: rec.states[-1][1] is not None and rec.states[-1][1]["state"] == "off")


async def test_pending_request_fails_fast_when_connection_drops(
    ha: FakeHA, connect: Factory
) -> None:
    ha.hold_service("cover", "open_cover")  # never answers: only the drop can end the call
    client, _ = await connect(ha.url, ha.token)
    call = asyncio.create_task(client.call_service("cover", "open_cover", {}, {}, timeout=60))
    await wait_for(lambda: bool(ha.calls("cover")))
    await ha.drop_connections()
    with pytest.raises(HAError) as err:
        await asyncio.wait_for(call, 30)  # long before its own 60 s timeout
    assert err.value.code == "connection_lost"


async def test_connects_once_home_assistant_comes_up(connect: Factory) -> None:
    ha = FakeHA()
    ha.port = free_port()
    client, rec = await connect(ha.url, ha.token)
    assert not client.connected
    assert client.last_error is not None
    assert client.last_error.code == "cannot_connect"
    await ha.start()
    try:
        await wait_for(lambda: client.connected and rec.connected == 1)
    finally:
        await ha.stop()


async def test_stop_stops_reconnecting(ha: FakeHA, connect: Factory) -> None:
    client, _ = await connect(ha.url, ha.token)
    await client.stop()
    assert not client.connected
    await wait_for(lambda: ha.connection_count == 0, what="HA to see the client go")
    await asyncio.sleep(0.2)  # with a 0.02 s backoff a reconnect would show here
    assert ha.connections_accepted == 1
    with pytest.raises(HAError):
        await client.get_states()


async def test_event_flood_is_read_while_a_slow_call_is_pending(
    connect: Factory,
) -> None:
    # HA drops a client that lets messages pile up; make the fake strict about it.
    async with running_fake_ha(pending_peak=300, pending_peak_time=0.5) as ha:
        ha.set_state("light.a", "off")
        answer = ha.hold_service("script", "long_running")
        client, rec = await connect(ha.url, ha.token)
        call = asyncio.create_task(
            client.call_service("script", "long_running", {}, {}, timeout=120)
        )
        await wait_for(lambda: bool(ha.calls("script")))
        for i in range(5000):
            ha.set_state(f"sensor.s{i % 50}", str(i), {"payload": "x" * 200})
            if i % 100 == 0:
                await asyncio.sleep(0)
        await wait_for(lambda: len(rec.states) == 5000)
        assert not call.done()  # every event arrived while the call was still pending
        answer.set()
        assert rec.states[-1][1] is not None
        assert rec.states[-1][1]["state"] == "4999"
        assert ha.dropped_for_lag == 0
        assert rec.connected == 1
        assert await call is not None


async def test_events_flow_while_on_connected_is_still_running(
    ha: FakeHA, session: aiohttp.ClientSession
) -> None:
    client = HAWebSocketClient(session, ha.url, ha.token)
    rec = Recorder()
    rec.slow_connected = asyncio.Event()
    client.set_handlers(rec.on_state, rec.on_connected)
    start = asyncio.create_task(client.start())
    try:
        await wait_for(lambda: rec.connected == 1)
        # The bridge resnapshots inside on_connected, which needs replies and events
        # to keep flowing meanwhile.
        assert len(await client.get_states()) == 2
        ha.set_state("light.kitchen", "on")
        await wait_for(lambda: len(rec.states) == 1)
        assert not start.done()
        rec.slow_connected.set()
        await asyncio.wait_for(start, 30)
    finally:
        rec.slow_connected.set()
        await client.stop()


async def test_service_hook_applies_custom_effects(ha: FakeHA, connect: Factory) -> None:
    def hook(call: ServiceCall) -> JSON | None:
        if call.domain == "lock":
            for entity_id in call.entity_ids:
                ha.set_state(entity_id, "locked")
            return {"ok": True}
        return None

    ha.on_call_service(hook)
    ha.set_state("lock.door", "unlocked")
    client, rec = await connect(ha.url, ha.token)
    result = await client.call_service(
        "lock", "lock", {}, {"entity_id": ["lock.door"]}, return_response=True
    )
    assert result is not None
    assert result["response"] == {"ok": True}
    await wait_for(lambda: ("lock.door", ha.states["lock.door"]) in rec.states)
    assert ha.states["lock.door"]["state"] == "locked"


type Script = Callable[[web.WebSocketResponse], Awaitable[None]]


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[str]]]:
    """A WebSocket server that plays a script: for protocol misbehaviour HA never shows."""
    runners: list[web.AppRunner] = []

    async def serve(script: Script) -> str:
        async def handler(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await script(ws)
            await ws.close()
            return ws

        app = web.Application()
        app.router.add_get("/ws", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"ws://127.0.0.1:{port}/ws"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def _wrong_greeting(ws: web.WebSocketResponse) -> None:
    await ws.send_json({"type": "hello"})


async def _hang_up_after_greeting(ws: web.WebSocketResponse) -> None:
    await ws.send_json({"type": "auth_required"})
    await ws.receive()


async def _odd_auth_answer(ws: web.WebSocketResponse) -> None:
    await ws.send_json({"type": "auth_required"})
    await ws.receive()
    await ws.send_json({"type": "auth_maybe"})


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (_wrong_greeting, "protocol_error"),
        (_hang_up_after_greeting, "cannot_connect"),
        (_odd_auth_answer, "protocol_error"),
    ],
)
async def test_misbehaving_server_during_auth(
    scripted: Callable[[Script], Awaitable[str]], connect: Factory, script: Script, code: str
) -> None:
    url = await scripted(script)
    client, _ = await connect(url, "t")
    assert not client.connected
    assert client.last_error is not None
    assert client.last_error.code == code


async def test_reader_survives_junk_and_a_failing_handler(
    scripted: Callable[[Script], Awaitable[str]], session: aiohttp.ClientSession
) -> None:
    done = asyncio.Event()

    async def script(ws: web.WebSocketResponse) -> None:
        await ws.send_json({"type": "auth_required"})
        await ws.receive()
        await ws.send_json({"type": "auth_ok"})
        sub = json.loads((await ws.receive()).data)
        event = {"event_type": "state_changed", "data": {"entity_id": "light.x", "new_state": {}}}
        await ws.send_str("not json")
        await ws.send_json(
            [
                {"id": 99, "type": "result", "success": True, "result": None},  # unknown id
                {"id": 98, "type": "event", "event": event},  # not our subscription
                {"id": sub["id"], "type": "result", "success": True, "result": None},
            ]
        )
        await ws.send_json({"id": sub["id"], "type": "event", "event": event})
        await ws.send_json({"id": sub["id"], "type": "event", "event": {"data": {}}})
        await ws.send_json({"id": sub["id"], "type": "event", "event": event})
        await done.wait()
        await ws.send_bytes(b"\x00")  # HA never sends binary: the client reconnects

    url = await scripted(script)
    seen: list[str] = []

    def on_state(entity_id: str, state: JSON | None) -> None:
        seen.append(entity_id)
        if len(seen) == 1:
            raise RuntimeError("handler bug")

    async def on_connected() -> None:
        return None

    client = HAWebSocketClient(session, url, "t", reconnect_min=0.02)
    client.set_handlers(on_state, on_connected)
    await client.start()
    try:
        assert client.connected
        await wait_for(lambda: len(seen) == 2)
        await client.start()  # starting twice is harmless
        done.set()
        await wait_for(lambda: client.connect_count >= 2, what="the reconnect")  # it may go on
    finally:
        done.set()
        await client.stop()


async def test_automation_config_reads_one_automation(ha: FakeHA, connect: Factory) -> None:
    """`automation/config` for an entity id; an unknown one is None, not an error."""
    ha.automation_configs["automation.mine"] = {"id": "mine", "alias": "Mine"}
    client, _ = await connect(ha.url, ha.token)
    assert await client.automation_config("automation.mine") == {"id": "mine", "alias": "Mine"}
    assert await client.automation_config("automation.other") is None
