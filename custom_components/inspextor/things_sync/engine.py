"""The things_sync protocol core as Home Assistant's side plays it. No I/O.

The host feeds datagrams in with `receive`, calls `poll` whenever `next_wakeup` comes or
after a receive, sends what `poll` returns, and drains `take_events`. Time comes from the
injected `clock` (monotonic seconds) and `wall` (Unix seconds, for signatures).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
import itertools
import time
from typing import Any

from . import wire
from .events import (
    Availability,
    Event,
    ProtocolError,
    PulseReceived,
    Result,
    StateChanged,
)
from .msgid import DedupWindow, MessageIds, parse_mid
from .pending import Backoff, Pending, PendingTable
from .site import Direction, Site, Thing
from .values import coerce, in_range

OFFLINE_AFTER = 5.0  # unanswered this long: the controller is unavailable
KEEPALIVE = 30.0  # silent this long: ask one of its things


class ThingsError(ValueError):
    """A request HA cannot send: `key` is a translation key, `thing` what it is about."""

    def __init__(self, key: str, thing: str) -> None:
        super().__init__(f"{key}: {thing}")
        self.key = key
        self.thing = thing


@dataclass(slots=True)
class ControllerState:
    """What HA knows about one controller."""

    available: bool = False
    ever_heard: bool = False
    last_heard: float | None = None
    awaiting_since: float | None = None
    boot: str | None = None
    errors: Counter[str] = field(default_factory=Counter)
    dedup: DedupWindow = field(default_factory=DedupWindow)
    last_mid: dict[str, tuple[str, int]] = field(default_factory=dict)
    sent: int = 0
    received: int = 0


@dataclass(frozen=True, slots=True)
class _Incoming:
    """One message being handled: from whom, whether its id is new."""

    name: str
    state: ControllerState
    msg: dict[str, Any]
    parsed: tuple[str, int] | None
    fresh: bool


class Engine:
    """Home Assistant's things_sync endpoint for one site."""

    def __init__(
        self,
        site: Site,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        ids: MessageIds | None = None,
    ) -> None:
        self.site = site
        self.clock = clock
        self.wall = wall
        self.ids = ids or MessageIds()
        self.pending = PendingTable(backoff)
        self.controllers = {name: ControllerState() for name in site.controllers}
        self.values: dict[str, Any] = {}
        self.refused: Counter[str] = Counter()
        self._outbox: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self._events: list[Event] = []
        self._tokens = itertools.count(1)
        self._by_endpoint = {(c.host, c.port): c.name for c in site.controllers.values()}
        hosts = Counter(c.host for c in site.controllers.values())
        self._by_host = {c.host: c.name for c in site.controllers.values() if hosts[c.host] == 1}
        self._logged: set[tuple[str, str]] = set()
        self._keepalive_thing = {
            name: things[0].name for name in site.controllers if (things := site.things_of(name))
        }

    # ----- requests from HA -------------------------------------------------------------

    def start(self) -> None:
        """Ask every controller for every thing it owns."""
        for name in self.site.controllers:
            self.ask_controller(name)

    def ask_controller(self, controller: str) -> None:
        """Ask one controller for all its things (repeated until each is answered)."""
        now = self.clock()
        for thing in self.site.things_of(controller):
            msg = wire.io("ask", thing.name, None)
            self.pending.add(("ask", thing.name), controller, msg, now, ttl=None)

    def _thing(self, name: str, directions: tuple[Direction, ...]) -> Thing:
        thing = self.site.things.get(name)
        if thing is None:
            raise ThingsError("unknown_thing", name)
        if thing.direction not in directions:
            raise ThingsError("not_writable", name)
        return thing

    def set(self, name: str, value: Any) -> int:
        """Set an output; the token's Result comes with the owner's reply or expiry."""
        thing = self._thing(name, (Direction.OUTPUT,))
        try:
            target = coerce(thing, value)
        except ValueError as err:
            raise ThingsError("invalid_value", name) from err
        if not in_range(thing, target):
            raise ThingsError("out_of_range", name)
        token = next(self._tokens)
        msg = wire.io("set", name, target)
        self.pending.add(
            ("set", name), thing.owner, msg, self.clock(), ttl=self.site.ttl, waiter=token
        )
        return token

    def pulse(self, name: str) -> int:
        """Fire a pulse; repeats carry the same id so the owner fires it once."""
        thing = self._thing(name, (Direction.PULSE,))
        token = next(self._tokens)
        mid = self.ids.next()
        msg = wire.io("pulse", name, 1, mid)
        now = self.clock()
        self.pending.add(
            ("pulse", name, mid), thing.owner, msg, now, ttl=self.site.ttl, waiter=token
        )
        return token

    def _request(self, controller: str, kind: str, msg: dict[str, Any], *subject: str) -> int:
        if controller not in self.site.controllers:
            raise ThingsError("unknown_controller", controller)
        if len(wire.dumps(msg)) > wire.MAX_DATAGRAM - wire.SIG_ROOM - 80:
            raise ThingsError("too_large", controller)
        token = next(self._tokens)
        msg["mid"] = self.ids.next()
        key = (kind, controller, *subject, msg["mid"])
        self.pending.add(key, controller, msg, self.clock(), ttl=self.site.ttl, waiter=token)
        return token

    def command(
        self,
        controller: str,
        role: str,
        cmd: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> int:
        """A role command; its Result carries the controller's `res`."""
        msg: dict[str, Any] = {"type": "cmd", "role": role, "cmd": cmd}
        if args:
            msg["args"] = list(args)
        if kwargs:
            msg["kwargs"] = dict(kwargs)
        return self._request(controller, "cmd", msg, role, cmd)

    def cum(self, name: str) -> int:
        """Ask a thing's owner for its cumulative data."""
        thing = self.site.things.get(name)
        if thing is None:
            raise ThingsError("unknown_thing", name)
        return self._request(thing.owner, "cum", {"type": "cum", "fld": name}, name)

    def clim(self, controller: str, settings: dict[str, Any] | None = None) -> int:
        """Climate: reload (no settings) or new settings."""
        msg: dict[str, Any] = {"type": "clim"}
        if settings:
            msg["clim"] = dict(settings)
        return self._request(controller, "clim", msg)

    def controller_for_role(self, role: str) -> str:
        """The first controller with the role."""
        for controller in self.site.controllers.values():
            if role in controller.roles:
                return controller.name
        raise ThingsError("unknown_role", role)

    # ----- incoming ---------------------------------------------------------------------

    def identify(self, addr: tuple[str, int]) -> str | None:
        """The controller a datagram came from, or None."""
        return self._by_endpoint.get((addr[0], addr[1])) or self._by_host.get(addr[0])

    def _count(self, source: str, error_id: str, detail: str) -> None:
        state = self.controllers.get(source)
        if state is not None:
            state.errors[error_id] += 1
        else:
            self.refused[source] += 1
        first = (source, error_id) not in self._logged
        self._logged.add((source, error_id))
        self._events.append(ProtocolError(source, error_id, detail, first))

    def receive(self, data: bytes, addr: tuple[str, int]) -> None:
        """One datagram in. Never raises."""
        name = self.identify(addr)
        if name is None:
            self._count(addr[0], wire.ERR_REFUSED, f"datagram from {addr[0]}:{addr[1]}")
            return
        decoded = wire.unpack(data, self.site.key, self.wall())
        if decoded.error is not None:
            self._count(name, decoded.error, decoded.detail)
            return
        state = self.controllers[name]
        state.received += 1
        self._heard(name, state)
        for message in decoded.messages:
            self._message(name, state, message)

    def _heard(self, name: str, state: ControllerState) -> None:
        now = self.clock()
        came_back = not state.available
        state.last_heard, state.awaiting_since = now, None
        if came_back:
            state.available = True
            self._events.append(Availability(name, True))
            if state.ever_heard:
                self.ask_controller(name)
        state.ever_heard = True

    def _message(self, name: str, state: ControllerState, message: Any) -> None:
        if not isinstance(message, dict) or message.get("type") not in wire.TYPES:
            self._count(name, wire.ERR_REQUEST, f"not a things_sync message: {message!r:.80}")
            return
        parsed = parse_mid(message.get("mid"))
        fresh = True
        if parsed is not None:
            if state.boot is not None and parsed[0] != state.boot:
                self.ask_controller(name)  # it restarted: its values may have changed
            state.boot = parsed[0]
            fresh = state.dedup.check(*parsed)
        handler = {
            "io": self._io,
            "cmd": self._answer,
            "cum": self._answer,
            "clim": self._answer,
        }[message["type"]]
        handler(_Incoming(name, state, message, parsed, fresh))

    def _io(self, inc: _Incoming) -> None:
        name, msg = inc.name, inc.msg
        cmd, thing_name = msg.get("cmd"), msg.get("io")
        if cmd not in wire.IO_COMMANDS:
            self._count(name, wire.ERR_COMMAND, f"io command {cmd!r:.40}")
            return
        thing = self.site.things.get(thing_name) if isinstance(thing_name, str) else None
        if thing is None:
            self._count(name, wire.ERR_THING, f"thing {thing_name!r:.40}")
            return
        if cmd == "ask":
            self._reply(name, thing, self.values.get(thing.name))
            return
        if thing.owner != name:
            self._count(name, wire.ERR_NOT_OWNER, f"{thing.name} belongs to {thing.owner}")
            return
        if cmd == "reply_pulse":
            self._pulse_answered(thing, msg.get("re"))
        elif cmd == "pulse":
            self._out(name, wire.io("reply_pulse", thing.name, 1, None) | _re(msg))
            if inc.fresh:
                self._events.append(PulseReceived(name, thing.name))
        else:
            self._value(inc, thing)

    def _value(self, inc: _Incoming, thing: Thing) -> None:
        name, state, msg, parsed = inc.name, inc.state, inc.msg, inc.parsed
        try:
            value = coerce(thing, msg.get("val"))
        except ValueError as err:
            self._count(name, wire.ERR_VALUE, f"{thing.name}: {err}")
            return
        if msg["cmd"] == "set":
            self._reply(name, thing, value)
        newest = parsed is None or state.dedup.newer(*parsed, state.last_mid.get(thing.name))
        if inc.fresh and newest:
            if parsed is not None:
                state.last_mid[thing.name] = parsed
            self._apply(name, thing, value)
        self.pending.resolve(("ask", thing.name))
        pending = self.pending.get(("set", thing.name))
        if msg["cmd"] == "reply" and pending is not None and _same(pending, value):
            self._finish(self.pending.resolve(("set", thing.name)), value)

    def _apply(self, name: str, thing: Thing, value: Any) -> None:
        if self.values.get(thing.name, _MISSING) != value or thing.name not in self.values:
            self.values[thing.name] = value
            self._events.append(StateChanged(name, thing.name, value))

    def _reply(self, name: str, thing: Thing, value: Any) -> None:
        self._out(name, wire.io("reply", thing.name, value))

    def _pulse_answered(self, thing: Thing, re: Any) -> None:
        keys = [p.key for p in self.pending.items() if p.key[:2] == ("pulse", thing.name)]
        # With an id, only its pulse; a controller that sends none answers the oldest.
        chosen = [key for key in keys if key[2] == re] if re is not None else keys[:1]
        for key in chosen:
            self._finish(self.pending.resolve(key), None)

    def _answer(self, inc: _Incoming) -> None:
        """The reply to a cmd, cum or clim request: by its `re`, else the oldest such."""
        name, msg = inc.name, inc.msg
        kind = msg["type"]
        mine = [p for p in self.pending.items() if p.key[0] == kind and p.key[1] == name]
        re = msg.get("re")
        chosen = [p for p in mine if p.key[-1] == re] if re is not None else mine[:1]
        if not chosen:
            return  # a repeat of an answer already taken, or a reset broadcast
        value = msg.get("cum") if kind == "cum" else msg.get("res")
        self._finish(self.pending.resolve(chosen[0].key), value)

    def _finish(self, item: Pending | None, value: Any) -> None:
        if item is None:
            return
        for token in item.waiters:
            self._events.append(Result(token, True, value))

    def _out(self, controller: str, message: dict[str, Any]) -> None:
        self._outbox[controller].append(message)

    # ----- time -------------------------------------------------------------------------

    def poll(self) -> list[tuple[tuple[str, int], bytes]]:
        """What to send now: repeats due, answers, keepalives. Expiries become Results."""
        now = self.clock()
        self._keepalive(now)
        send, expired = self.pending.due(now)
        for item in expired:
            for token in item.waiters:
                self._events.append(Result(token, False, error="expired"))
        for item in send:
            message = item.message
            if item.key[0] in ("set", "ask"):
                message = message | {"mid": self.ids.next()}
            self._out(item.controller, message)
            state = self.controllers[item.controller]
            if state.awaiting_since is None:
                state.awaiting_since = now
        self._offline(now)
        return self._flush()

    def _keepalive_due(self) -> dict[str, float]:
        """When each controller (with things, no keep-alive pending) is due an ask."""
        return {
            name: heard + KEEPALIVE
            for name, thing in self._keepalive_thing.items()
            if (heard := self.controllers[name].last_heard) is not None
            and ("ask", thing) not in self.pending
        }

    def _keepalive(self, now: float) -> None:
        for name, due in self._keepalive_due().items():
            if now >= due:
                thing = self._keepalive_thing[name]
                msg = wire.io("ask", thing, None)
                self.pending.add(("ask", thing), name, msg, now, ttl=None)

    def _offline(self, now: float) -> None:
        for name, state in self.controllers.items():
            waited = state.awaiting_since
            if state.available and waited is not None and now - waited >= OFFLINE_AFTER:
                state.available = False
                self._events.append(Availability(name, False))

    def _flush(self) -> list[tuple[tuple[str, int], bytes]]:
        out: list[tuple[tuple[str, int], bytes]] = []
        wall = self.wall()
        for name, messages in self._outbox.items():
            controller = self.site.controllers[name]
            datagrams = wire.pack(messages, self.site.key, wall)
            self.controllers[name].sent += len(datagrams)
            out.extend(((controller.host, controller.port), data) for data in datagrams)
        self._outbox.clear()
        return out

    def next_wakeup(self) -> float | None:
        """Monotonic time of the next repeat or check (None: nothing to do)."""
        wake = self.pending.next_wakeup()
        checks = [
            s.awaiting_since + OFFLINE_AFTER
            for s in self.controllers.values()
            if s.available and s.awaiting_since is not None
        ] + list(self._keepalive_due().values())
        candidates = [t for t in [wake, *checks] if t is not None]
        return min(candidates) if candidates else None

    def take_events(self) -> list[Event]:
        """Everything that happened since the last call."""
        events, self._events = self._events, []
        return events

    def diagnostics(self) -> dict[str, Any]:
        """Counters per controller, refused addresses, what is pending."""
        return {
            "controllers": {
                name: {
                    "available": s.available,
                    "boot": s.boot,
                    "datagrams_sent": s.sent,
                    "datagrams_received": s.received,
                    "errors": dict(s.errors),
                }
                for name, s in self.controllers.items()
            },
            "refused": dict(self.refused),
            "pending": len(self.pending),
        }


_MISSING = object()


def _re(msg: dict[str, Any]) -> dict[str, Any]:
    return {"re": msg["mid"]} if "mid" in msg else {}


def _same(pending: Pending, value: Any) -> bool:
    target = pending.message.get("val")
    return bool(target == wire.wire_value(value))
