"""One real stack for the end-to-end tests: two brokers, simulator, hass, dev cloud, bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
import json
import threading
import time
from typing import Any

import aiohttp
import paho.mqtt.client as mqtt
import pytest
import pytest_asyncio
import yaml

from devkit.devstack.stack import Stack, StackConfig
from tests.helpers.mosquitto import mosquitto_path

EXPIRED_CONTRACT = "C-2002"
EXPOSED = ["light.kitchen_light", "cover.bedroom_shade"]

pytestmark = pytest.mark.e2e


@dataclass
class Observed:
    """MQTT messages seen on a broker, with the monotonic time each arrived."""

    messages: list[tuple[float, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def matching(self, topic: str) -> list[tuple[float, bytes]]:
        with self.lock:
            return [(t, p) for t, top, p in self.messages if top == topic]


@pytest.fixture(scope="session")
def site_observer_factory() -> Iterator[Any]:
    """Subscribe to a topic filter on a broker from a background paho client."""
    clients: list[mqtt.Client] = []

    def observe(port: int, topic: str) -> Observed:
        seen = Observed()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

        def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
            with seen.lock:
                seen.messages.append((time.monotonic(), msg.topic, msg.payload))

        subscribed = threading.Event()
        client.on_message = on_message
        client.on_subscribe = lambda *_: subscribed.set()
        client.connect("127.0.0.1", port)
        client.subscribe(topic, qos=1)
        client.loop_start()
        clients.append(client)
        # the broker's SUBACK: from then on nothing published on `topic` is missed
        assert subscribed.wait(30), f"no SUBACK for {topic} from the broker on {port}"
        return seen

    yield observe
    for client in clients:
        client.loop_stop()
        client.disconnect()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The whole system, activated, with only the kitchen light and the shade exposed."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    workdir = tmp_path_factory.mktemp("stack")
    config = StackConfig.for_tests(
        workdir,
        shade_travel_time=3.0,
        sensor_interval=5.0,
        extra_contracts=[f"{EXPIRED_CONTRACT}:home-2:expired-pass:expired:2024-01-01"],
        bridge_options={"high_window": 0.2, "cover_timeout": 30},
        log_level="debug",
    )
    running = Stack(config)
    await running.start()
    try:
        await wait_for_entities(running, [*EXPOSED, "light.living_room_strip"])
        # Chosen in the bridge entry's options in HA; the integration PUTs it to the bridge.
        await running.set_exposure(EXPOSED)
        yield running
    finally:
        await running.stop()
        for log in sorted((workdir / "logs").glob("*.log")):
            print(f"--- tail of {log.name} ---\n{log.read_text(errors='replace')[-3000:]}")


async def wait_for_entities(stack: Stack, entity_ids: list[str], timeout: float = 90) -> None:
    """Wait until HA has states (not unknown) for every entity."""
    assert stack.hass is not None
    deadline = time.monotonic() + timeout
    missing = list(entity_ids)
    while time.monotonic() < deadline:
        states = {s["entity_id"]: s["state"] for s in await stack.hass.all_states()}
        missing = [e for e in entity_ids if states.get(e) in (None, "unknown", "unavailable")]
        if not missing:
            return
        await _sleep(0.3)
    raise AssertionError(f"HA never reported {missing}")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def devcloud(stack: Stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the dev cloud's HTTP API (what the cloud UI and the mobile app use)."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.request(method, stack.devcloud_url + path, json=body) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def command_until_final(
    stack: Stack, service: str, entity_id: str, data: dict[str, Any], timeout: float = 60
) -> dict[str, Any]:
    """Send a command as the mobile app does and wait for its final result."""
    status, sent = await devcloud(
        stack,
        "POST",
        f"/api/homes/{stack.config.contract_id}/commands",
        {"service": service, "entity_id": entity_id, "data": data, "origin": "mobile"},
    )
    assert status == 202, sent
    final = {"succeeded", "failed", "rejected", "expired", "duplicate"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, command = await devcloud(stack, "GET", f"/api/commands/{sent['id']}")
        if any(r["status"] in final for r in command.get("results", [])):
            return dict(command)
        await _sleep(0.1)
    raise AssertionError(f"no final result for {service} {entity_id}: {command}")


async def cloud_entity(stack: Stack, entity_id: str) -> dict[str, Any] | None:
    """The cloud's copy of one entity."""
    _, entities = await devcloud(stack, "GET", f"/api/homes/{stack.config.contract_id}/entities")
    rows = entities if isinstance(entities, list) else entities.get("entities", [])
    return next((e for e in rows if e.get("entity_id") == entity_id), None)


def payload_value(payload: bytes) -> Any:
    """The `value` of a device status payload."""
    return json.loads(payload).get("value")


LIGHT = "light.kitchen_light"
USER_ALIAS = "Hall motion switches the kitchen light off"


@pytest_asyncio.fixture(loop_scope="session")
async def motion(stack: Stack) -> AsyncIterator[str]:
    """The hall motion sensor, exposed for the test; a user automation on it in its own
    file, whose bytes must not change."""
    assert stack.hass is not None
    motion = next(
        s["entity_id"]
        for s in await stack.hass.all_states()
        if s["entity_id"].startswith("binary_sensor.hall_motion")
    )
    user_file = stack.hass.config_dir / "user_automations.yaml"
    user_file.write_text(
        yaml.safe_dump(
            [
                {
                    "id": "user_hall_off",
                    "alias": USER_ALIAS,
                    "triggers": [{"trigger": "state", "entity_id": motion, "to": "on"}],
                    "actions": [{"action": "light.turn_off", "target": {"entity_id": LIGHT}}],
                }
            ]
        )
    )
    await stack.hass.call_service("automation", "reload", {})
    await stack.set_exposure([*EXPOSED, motion])
    before = user_file.read_bytes()
    yield motion
    assert user_file.read_bytes() == before  # the user's automations, byte for byte
    await stack.set_exposure(EXPOSED)
