"""One simulated things_sync controller on its own UDP socket."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
import logging
import random
from typing import Any

from . import wire
from .sitefile import ControllerSpec

_LOGGER = logging.getLogger(__name__)
TICK = 0.05
BASE_DELAY = 0.5
MAX_DELAY = 3.0

_DEFAULTS: dict[str, Any] = {"bool": False, "int": 0, "float": 0.0, "str": ""}


@dataclass(slots=True)
class SimThing:
    """A thing and its current value."""

    name: str
    type: str
    direction: str
    value: Any = None
    changes: int = 0
    pulses: int = 0
    last_mid: str | None = None

    def __post_init__(self) -> None:
        if self.value is None:
            self.value = _DEFAULTS[self.type]

    def wire_value(self) -> Any:
        """Bools travel as 1/0."""
        return int(self.value) if isinstance(self.value, bool) else self.value


@dataclass(slots=True)
class _Report:
    attempts: int = 0
    next_at: float = 0.0


@dataclass(slots=True)
class Stats:
    """What a test wants to know about a controller."""

    received: int = 0
    refused: int = 0
    unreadable: int = 0
    sets_applied: int = 0
    commands: Counter[str] = field(default_factory=Counter)


class SimController(asyncio.DatagramProtocol):
    """Owns things; answers asks, applies sets, fires pulses once, reports inputs."""

    def __init__(self, spec: ControllerSpec, *, seed: int | None = None) -> None:
        self.spec = spec
        self.things = {t.name: SimThing(t.name, t.type, t.direction) for t in spec.things}
        self.stats = Stats()
        self.climate: dict[str, Any] = {}
        self.silent = False  # True: reads nothing, answers nothing (a dead controller)
        self._rng = random.Random(seed)  # noqa: S311 - simulation
        self._ids = wire.Ids()
        self._seen = wire.Seen()
        self._answers: dict[str, dict[str, Any]] = {}
        self._reports: dict[str, _Report] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens."""
        return self.spec.host, self.spec.port

    async def start(self) -> None:
        """Bind and start reporting."""
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=self.address)
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        """Close the socket (pending reports are lost, as on a power cut)."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        await asyncio.sleep(0)

    async def restart(self) -> None:
        """Power-cycle: new boot id, forgotten ids and reports, values kept."""
        await self.stop()
        self._ids, self._seen, self._answers, self._reports = wire.Ids(), wire.Seen(), {}, {}
        await self.start()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Bound; a port 0 in the spec becomes the one the system chose."""
        self._transport = transport  # type: ignore[assignment]
        self.spec.port = int(transport.get_extra_info("sockname")[1])

    def report(self, name: str, value: Any) -> None:
        """An input changed: tell Home Assistant until it acknowledges the newest value."""
        thing = self.things[name]
        thing.value = value
        thing.changes += 1
        self._reports[name] = _Report()

    def send_raw(self, data: bytes) -> None:
        """Send any bytes to Home Assistant from this controller's socket (hostile tests)."""
        if self._transport is not None:
            self._transport.sendto(data, self.spec.ha)

    def _send(self, messages: list[dict[str, Any]], addr: tuple[str, int]) -> None:
        if self._transport is None or not messages:
            return
        for data in wire.encode(messages, self.spec.key):
            self._transport.sendto(data, addr)

    def _io(self, cmd: str, thing: SimThing, **extra: Any) -> dict[str, Any]:
        message = {"type": "io", "cmd": cmd, "io": thing.name, "val": thing.wire_value()}
        return message | extra | {"mid": self._ids.next()}

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            due = [n for n, r in self._reports.items() if r.next_at <= now]
            for name in due:
                report = self._reports[name]
                report.attempts += 1
                delay = min(MAX_DELAY, BASE_DELAY * 2 ** (report.attempts - 1))
                report.next_at = now + delay * self._rng.uniform(0.75, 1.25)
            if not self.silent:
                self._send([self._io("set", self.things[n]) for n in due], self.spec.ha)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Answer what Home Assistant sent."""
        if self.silent:
            return
        if (str(addr[0]), int(addr[1])) != self.spec.ha:
            self.stats.refused += 1
            return
        messages = wire.decode(data, self.spec.key)
        if messages is None:
            self.stats.unreadable += 1
            return
        self.stats.received += 1
        answers: list[dict[str, Any]] = []
        for message in messages:
            if isinstance(message, dict):
                answers.extend(self._handle(message))
        self._send(answers, self.spec.ha)

    def _handle(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        kind = message.get("type")
        if kind == "io":
            return self._handle_io(message)
        mid = message.get("mid")
        if isinstance(mid, str) and mid in self._answers:
            return [self._answers[mid]]  # a repeat: the same answer, not a second run
        if kind == "cmd":
            answer = self._command(message)
        elif kind == "cum":
            answer = self._cumul(message)
        elif kind == "clim":
            self.climate = dict(message.get("clim") or {"reloaded": True})
            answer = {"type": "clim", "res": self.climate}
        else:
            return []
        if isinstance(mid, str):
            answer["re"] = mid
            self._answers[mid] = answer
        return [answer]

    def _handle_io(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        thing = self.things.get(str(message.get("io")))
        cmd = message.get("cmd")
        if thing is None:
            return []
        first = self._seen.first_time(message.get("mid"))
        if cmd == "ask":
            return [self._io("reply", thing)]
        if cmd == "reply":
            report = self._reports.get(thing.name)
            if report is not None and message.get("val") == thing.wire_value():
                del self._reports[thing.name]
            return []
        if cmd == "pulse" and thing.direction == "pulse":
            if first:
                thing.pulses += 1
            re = {"re": message["mid"]} if "mid" in message else {}
            return [self._io("reply_pulse", thing, **re)]
        if cmd == "set" and thing.direction == "output":
            mid = message.get("mid")
            if first and wire.later(mid, thing.last_mid):
                self._apply(thing, message.get("val"), mid)
            return [self._io("reply", thing)]
        return []

    def _apply(self, thing: SimThing, value: Any, mid: Any) -> None:
        if thing.type == "bool":
            value = bool(value)
        thing.value = value
        thing.last_mid = mid if isinstance(mid, str) else thing.last_mid
        thing.changes += 1
        self.stats.sets_applied += 1

    def _command(self, message: dict[str, Any]) -> dict[str, Any]:
        role, cmd = message.get("role"), message.get("cmd")
        answer: dict[str, Any] = {"type": "cmd", "role": role, "cmd": cmd}
        if role not in self.spec.roles:
            return answer | {"res": {"error": f"no role {role}"}}
        self.stats.commands[f"{role}.{cmd}"] += 1
        if cmd == "version":
            return answer | {"res": "inspextor-sim 1.0"}
        res = {"done": cmd, "args": message.get("args", []), "kwargs": message.get("kwargs", {})}
        return answer | {"res": res}

    def _cumul(self, message: dict[str, Any]) -> dict[str, Any]:
        name = message.get("fld")
        thing = self.things.get(str(name))
        if thing is None:
            for each in self.things.values():
                each.changes = 0
            return {"type": "cum", "res": "reset"}
        return {"type": "cum", "fld": name, "cum": {"changes": thing.changes, "value": thing.value}}
