"""One simulated InspeXtor device speaking docs/protocol.md Contract 2.

Each device has its own MQTT connection so that its retained `availability` can be its
last will. It answers commands (echoing the command id), asks, and drifts its sensors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
import json
import logging
import random
from typing import Any

from .mqtt_loop import AsyncMqttClient, Will
from .site_file import SimDeviceSpec

_LOGGER = logging.getLogger(__name__)

type Value = int | float | bool | str | list[int]

# name, low bound, high bound, largest step of one drift, decimals
_SENSOR_RANGES: dict[str, tuple[float, float, float, int]] = {
    "illuminance": (0.0, 2000.0, 60.0, 0),
    "temperature": (15.0, 30.0, 0.3, 1),
    "humidity": (25.0, 75.0, 1.5, 1),
    "ozone": (0.0, 240.0, 6.0, 1),
}
_SENSOR_START: dict[str, float] = {
    "illuminance": 300.0,
    "temperature": 21.0,
    "humidity": 45.0,
    "ozone": 40.0,
}


@dataclass(slots=True)
class SimConfig:
    """How simulated devices behave (all times in seconds)."""

    confirm_delay: float = 0.0
    drop_rate: float = 0.0
    sensor_interval: float = 30.0
    motion_interval: float = 60.0
    shade_travel_time: float = 10.0
    shade_step: int = 10
    announce: bool = False
    keepalive: int = 30


def sensor_bounds(capability: str) -> tuple[float, float]:
    """The range a drifting sensor stays within."""
    low, high, _, _ = _SENSOR_RANGES[capability]
    return low, high


class SimDevice:
    """A device on the site broker."""

    def __init__(
        self,
        spec: SimDeviceSpec,
        base: str,
        config: SimConfig,
        rng: random.Random,
        client_id: str,
    ) -> None:
        self.spec = spec
        self.base = base
        self.config = config
        self.topic = f"{base}/{spec.path}"
        self._rng = rng
        self._client_id = client_id
        self.client: AsyncMqttClient | None = None
        self.state: dict[str, Value] = self._initial_state()
        self.commands_received = 0
        self.commands_dropped = 0
        self.asks_answered = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._travel: asyncio.Task[None] | None = None
        self._drift: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Connect (last will: retained offline), subscribe, announce, go online."""
        availability = f"{self.topic}/availability"
        self.client = AsyncMqttClient(
            host,
            port,
            self._client_id,
            self._on_message,
            will=Will(availability, b"offline"),
            keepalive=self.config.keepalive,
            on_connect=self._go_online,
        )
        await self.client.subscribe(f"{self.topic}/+/command", 1)
        await self.client.subscribe(f"{self.topic}/ask", 0)
        await self.client.subscribe(f"{self.base}/ask", 0)
        await self.client.connect()
        if self._has_sensors():
            self._drift = asyncio.get_running_loop().create_task(self._drift_loop())

    def _go_online(self) -> None:
        # On every (re)connect: the broker may have lost its retained messages.
        assert self.client is not None
        if self.config.announce:
            self.client.publish(f"{self.topic}/announce", self.announcement(), 1, retain=True)
        self.client.publish(f"{self.topic}/availability", "online", 1, retain=True)

    async def stop(self) -> None:
        """Go offline cleanly: retained offline, then DISCONNECT."""
        self._cancel_tasks()
        if self.client is not None and self.client.connected:
            await self.client.publish_acked(f"{self.topic}/availability", "offline", 1, retain=True)
        if self.client is not None:
            await self.client.disconnect()

    def kill(self) -> None:
        """Vanish without a DISCONNECT (a crash or power cut): the broker sends the will."""
        self._cancel_tasks()
        if self.client is not None:
            self.client.kill()

    def _cancel_tasks(self) -> None:
        for task in (*self._tasks, self._travel, self._drift):
            if task is not None:
                task.cancel()
        self._tasks.clear()

    # -- publishing --------------------------------------------------------------------

    def publish_status(self, capability: str, value: Value, cid: str | None = None) -> None:
        """Publish one capability's status (never retained)."""
        if self.client is None:
            return
        payload: dict[str, Any] = {"value": value}
        if cid is not None:
            payload["cid"] = cid
        subtopic = self.spec.subtopic_for(capability)
        self.client.publish(f"{self.topic}/{subtopic}/status", json.dumps(payload), 0)

    def answer_ask(self) -> None:
        """Every capability's status and the availability."""
        if self.client is None:
            return
        self.asks_answered += 1
        for capability, value in self.state.items():
            self.publish_status(capability, value)
        self.client.publish(f"{self.topic}/availability", "online", 1, retain=True)

    def random_change(self) -> None:
        """Change one capability to a plausible new value and publish it (load generator)."""
        capability = self._rng.choice(list(self.state))
        if capability in _SENSOR_RANGES:
            self._drift_one(capability)
        elif capability == "motion" and self.spec.kind != "shade":
            self._set(capability, not self.state[capability])
        elif capability == "brightness":
            self._set(capability, self._rng.randrange(256))
        elif capability == "color":
            self._set(capability, [self._rng.randrange(256) for _ in range(4)])
        elif capability == "position":
            self._set(capability, self._rng.randrange(101))
        else:
            self.publish_status(capability, self.state[capability])

    def _set(self, capability: str, value: Value, cid: str | None = None) -> None:
        self.state[capability] = value
        self.publish_status(capability, value, cid)

    def announcement(self) -> str:
        """The retained self-announcement (docs/protocol.md Contract 2)."""
        body: dict[str, Any] = {
            "name": self.spec.name,
            "kind": self.spec.kind,
            "model": f"InspeXtor {self.spec.kind} (simulated)",
            "sw_version": "sim-1.0",
        }
        if self.spec.area:
            body["area"] = self.spec.area
        if self.spec.subtopics:
            body["subtopics"] = dict(self.spec.subtopics)
        return json.dumps(body)

    # -- incoming ----------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic in (f"{self.base}/ask", f"{self.topic}/ask"):
            self.answer_ask()
            return
        levels = topic[len(self.topic) + 1 :].split("/")
        if len(levels) != 2 or levels[1] != "command":
            return
        capability = self.spec.capability_for(levels[0])
        if capability is None:
            _LOGGER.debug("%s: command on unknown subtopic %s", self.topic, levels[0])
            return
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            _LOGGER.debug("%s: command is not JSON", self.topic)
            return
        if not isinstance(body, dict) or "value" not in body:
            _LOGGER.debug("%s: command without value", self.topic)
            return
        cid = body.get("cid")
        cid = str(cid) if cid is not None else None
        self.commands_received += 1
        if self.config.drop_rate and self._rng.random() < self.config.drop_rate:
            self.commands_dropped += 1
            return
        self._spawn(self._apply(capability, body["value"], cid))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply(self, capability: str, value: Any, cid: str | None) -> None:
        if self.config.confirm_delay:
            await asyncio.sleep(self.config.confirm_delay)
        kind = self.spec.kind
        if capability == "brightness" and _is_byte(value):
            self._set("brightness", value, cid)
        elif capability == "color" and kind == "rgbw_light" and _is_color(value):
            self._set("color", list(value), cid)
        elif capability == "position" and kind == "shade" and _is_int(value, 0, 100):
            self.publish_status("position", self.state["position"], cid)
            self._start_travel(int(value))
        elif capability == "motion" and kind == "shade" and value == "stop":
            if self._travel is not None:
                self._travel.cancel()
                self._travel = None
            self._set("motion", "stopped", cid)
            self.publish_status("position", self.state["position"])
        else:
            _LOGGER.debug("%s: refused %s=%r", self.topic, capability, value)

    # -- shades ------------------------------------------------------------------------

    def _start_travel(self, target: int) -> None:
        if self._travel is not None:
            self._travel.cancel()
        self._travel = asyncio.get_running_loop().create_task(self._travel_to(target))

    async def _travel_to(self, target: int) -> None:
        position = int(self.state["position"])  # type: ignore[arg-type]
        if target == position:
            self._set("motion", "stopped")
            return
        direction = 1 if target > position else -1
        self._set("motion", "opening" if direction > 0 else "closing")
        step = max(1, self.config.shade_step)
        step_time = self.config.shade_travel_time * step / 100
        while position != target:
            await asyncio.sleep(step_time)
            position += direction * min(step, abs(target - position))
            self._set("position", position)
        self._set("motion", "stopped")
        self._travel = None

    # -- sensors -----------------------------------------------------------------------

    def _has_sensors(self) -> bool:
        return self.spec.kind in ("steinel", "ozone", "motion")

    async def _drift_loop(self) -> None:
        interval = min(self.config.sensor_interval, self.config.motion_interval)
        # Spread the fleet so a thousand devices do not publish in the same instant.
        await asyncio.sleep(self._rng.uniform(0, interval))
        next_motion = self.config.motion_interval
        elapsed = 0.0
        while True:
            for capability in self.state:
                if capability in _SENSOR_RANGES:
                    self._drift_one(capability)
            if elapsed >= next_motion and "motion" in self.state:
                next_motion += self.config.motion_interval
                moving = bool(self.state["motion"])
                # Motion is detected now and then and clears on the next tick.
                if moving or self._rng.random() < 0.4:
                    self._set("motion", not moving)
            await asyncio.sleep(self.config.sensor_interval)
            elapsed += self.config.sensor_interval

    def _drift_one(self, capability: str) -> None:
        low, high, step, decimals = _SENSOR_RANGES[capability]
        current = float(self.state[capability])  # type: ignore[arg-type]
        value = min(high, max(low, current + self._rng.uniform(-step, step)))
        self._set(capability, round(value, decimals) if decimals else round(value))

    def _initial_state(self) -> dict[str, Value]:
        kind = self.spec.kind
        state: dict[str, Value] = {}
        if kind in ("light", "rgbw_light"):
            state["brightness"] = 0
        if kind == "rgbw_light":
            state["color"] = [255, 255, 255, 0]
        if kind == "shade":
            state["position"] = 0
            state["motion"] = "stopped"
        if kind in ("motion", "steinel"):
            state["motion"] = False
        if kind == "steinel":
            for name in ("illuminance", "temperature", "humidity"):
                state[name] = _SENSOR_START[name]
        if kind == "ozone":
            state["ozone"] = _SENSOR_START["ozone"]
        return state


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_byte(value: Any) -> bool:
    return _is_int(value, 0, 255)


def _is_color(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 4 and all(_is_byte(v) for v in value)
