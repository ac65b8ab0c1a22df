"""The things_sync engine on a fake clock, a scripted controller answering by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.inspextor.things_sync import wire
from custom_components.inspextor.things_sync.engine import Engine, ThingsError
from custom_components.inspextor.things_sync.events import (
    Availability,
    ProtocolError,
    PulseReceived,
    Result,
    StateChanged,
)
from custom_components.inspextor.things_sync.pending import Backoff
from custom_components.inspextor.things_sync.site import parse_site

from .test_things_sync_core import SITE

LIGHT = ("127.0.0.2", 5006)
ALARM = ("127.0.0.3", 5006)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(text: str = SITE) -> tuple[Engine, Clock]:
    clock = Clock()
    backoff = Backoff(rng=lambda: 0.5)
    engine = Engine(parse_site(text), clock=clock, wall=lambda: 1e9, backoff=backoff)
    return engine, clock


def sent(engine: Engine) -> list[tuple[tuple[str, int], dict[str, Any]]]:
    return [(addr, m) for addr, data in engine.poll() for m in json.loads(data)]


def send(engine: Engine, addr: tuple[str, int], *messages: dict[str, Any]) -> None:
    engine.receive(json.dumps(list(messages)).encode(), addr)


def results(engine: Engine) -> list[Result]:
    return [e for e in engine.take_events() if isinstance(e, Result)]


def test_start_asks_every_thing_until_answered() -> None:
    engine, clock = make()
    engine.start()
    asks = sent(engine)
    assert sorted((a, m["io"]) for a, m in asks if m["cmd"] == "ask") == [
        (LIGHT, "dimmer"), (LIGHT, "hall_light"), (ALARM, "bell"), (ALARM, "door"),
    ]  # fmt: skip
    send(engine, LIGHT, wire.io("reply", "hall_light", 1), wire.io("reply", "dimmer", 40))
    events = engine.take_events()
    assert StateChanged("pi-light", "hall_light", True) in events
    assert Availability("pi-light", True) in events
    clock.now += 0.5
    again = sorted(m["io"] for _, m in sent(engine))
    assert again == ["bell", "door"]  # answered asks are not repeated


def test_set_is_pending_until_its_reply_and_repeats_the_newest_value() -> None:
    engine, clock = make()
    first = engine.set("dimmer", 10)
    assert [m["val"] for _, m in sent(engine)] == [10]
    clock.now += 0.2
    second = engine.set("dimmer", 70)
    out = sent(engine)
    assert [m["val"] for _, m in out] == [70]
    clock.now += 0.5
    repeat = sent(engine)
    assert [m["val"] for _, m in repeat] == [70]
    assert out[0][1]["mid"] != repeat[0][1]["mid"]  # a set repeat is a new message
    send(engine, LIGHT, wire.io("reply", "dimmer", 10))  # the old value: still pending
    assert results(engine) == []
    send(engine, LIGHT, wire.io("reply", "dimmer", 70))
    assert results(engine) == [Result(first, True, 70), Result(second, True, 70)]
    clock.now += 10
    assert [m for _, m in sent(engine) if m["cmd"] == "set"] == []


def test_set_gives_up_after_the_time_to_live() -> None:
    engine, clock = make()
    token = engine.set("hall_light", True)
    tries = 0
    while not (done := results(engine)):
        tries += len(sent(engine))
        clock.now = engine.next_wakeup() or clock.now
    assert done == [Result(token, False, error="expired")]
    assert clock.now == pytest.approx(130.0)
    assert tries == 12  # 0, 0.5, 1.5, 3.5, then every 3 s (the cap) to 27.5 s


def test_forever_never_gives_up() -> None:
    engine, clock = make(SITE.replace("ttl: 30", "ttl: forever"))
    engine.set("hall_light", False)
    for _ in range(50):
        clock.now = engine.next_wakeup() or clock.now
        assert [m["val"] for _, m in sent(engine)] == [0]
    assert results(engine) == []


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda e: e.set("door", True), "not_writable"),
        (lambda e: e.set("nothing", 1), "unknown_thing"),
        (lambda e: e.set("dimmer", "high"), "invalid_value"),
        (lambda e: e.set("dimmer", 101), "out_of_range"),
        (lambda e: e.pulse("dimmer"), "not_writable"),
        (lambda e: e.cum("nothing"), "unknown_thing"),
        (lambda e: e.clim("pi-nobody"), "unknown_controller"),
        (lambda e: e.controller_for_role("irr"), "unknown_role"),
        (lambda e: e.command("pi-light", "light", "set", ["x" * 1400]), "too_large"),
    ],
)
def test_requests_that_cannot_be_sent(call: Any, key: str) -> None:
    engine, _ = make()
    with pytest.raises(ThingsError) as caught:
        call(engine)
    assert caught.value.key == key


def test_pulse_repeats_keep_their_id() -> None:
    engine, clock = make()
    token = engine.pulse("bell")
    first = sent(engine)
    clock.now += 0.5
    again = sent(engine)
    assert first[0][1]["mid"] == again[0][1]["mid"]
    send(engine, ALARM, {"type": "io", "cmd": "reply_pulse", "io": "bell", "val": 1, "re": "x"})
    assert results(engine) == []  # the answer to another pulse (a late duplicate)
    send(engine, ALARM, {"type": "io", "cmd": "reply_pulse", "io": "bell", "val": 1})
    assert results(engine) == [Result(token, True, None)]  # no id: the oldest pulse


def test_refused_and_malformed_are_counted_never_raised() -> None:
    engine, _ = make()
    engine.receive(b'[{"type":"io","cmd":"set","io":"door","val":1}]', ("127.0.0.9", 5006))
    send(engine, ALARM, [1])  # type: ignore[arg-type]
    send(engine, ALARM, {"type": "weather"})
    send(engine, ALARM, {"type": "io", "cmd": "toggle", "io": "door"})
    send(engine, ALARM, wire.io("set", "window", 1))
    send(engine, ALARM, wire.io("set", "door", "open"))
    send(engine, ALARM, wire.io("set", "hall_light", 1))
    engine.receive(b"\x00garbage", ALARM)
    engine.receive(b"[" + b"0," * 1000 + b"0]", ALARM)
    errors = engine.diagnostics()["controllers"]["pi-alarm"]["errors"]
    assert errors == {
        wire.ERR_REQUEST: 2,
        wire.ERR_COMMAND: 1,
        wire.ERR_THING: 1,
        wire.ERR_VALUE: 1,
        wire.ERR_NOT_OWNER: 1,
        wire.ERR_JSON: 2,
    }
    assert engine.diagnostics()["refused"] == {"127.0.0.9": 1}
    firsts = [e for e in engine.take_events() if isinstance(e, ProtocolError) and e.first]
    assert len(firsts) == 7  # one log line per kind and source
    assert "door" not in engine.values


def test_input_sets_are_acknowledged_and_stale_ones_not_applied() -> None:
    engine, _ = make()
    newer = wire.io("set", "door", 1, "boot1:6")
    older = wire.io("set", "door", 0, "boot1:5")
    send(engine, ALARM, newer)
    send(engine, ALARM, older, newer)
    acks = [m for _, m in sent(engine)]
    assert [m["cmd"] for m in acks] == ["reply", "reply", "reply"]
    assert engine.values["door"] is True
    changes = [e for e in engine.take_events() if isinstance(e, StateChanged)]
    assert changes == [StateChanged("pi-alarm", "door", True)]


def test_a_controller_that_comes_back_is_asked_again() -> None:
    engine, clock = make()
    send(engine, LIGHT, wire.io("reply", "hall_light", 0, "aaaa:1"))
    engine.take_events()
    engine.set("hall_light", True)
    for _ in range(6):
        sent(engine)
        clock.now = engine.next_wakeup() or clock.now
    assert Availability("pi-light", False) in engine.take_events()
    sent(engine)
    send(engine, LIGHT, wire.io("reply", "hall_light", 1, "aaaa:2"))
    events = engine.take_events()
    assert Availability("pi-light", True) in events
    asks = {m["io"] for _, m in sent(engine) if m["cmd"] == "ask"}
    assert asks == {"dimmer"}  # hall_light came in the datagram that brought it back
    send(engine, LIGHT, wire.io("reply", "dimmer", 5, "aaaa:3"))
    assert [m for _, m in sent(engine) if m["cmd"] == "ask"] == []
    send(engine, LIGHT, wire.io("reply", "dimmer", 5, "bbbb:1"))  # it restarted
    assert {m["io"] for _, m in sent(engine) if m["cmd"] == "ask"} == {"hall_light"}


def test_keepalive_asks_a_silent_controller() -> None:
    engine, clock = make()
    send(engine, ALARM, wire.io("reply", "door", 0), wire.io("reply", "bell", 0))
    sent(engine)
    clock.now += 31
    assert [m["io"] for _, m in sent(engine) if m["cmd"] == "ask"] == ["door"]
    for _ in range(5):  # it stays silent: the ask repeats, no busy loop of wake-ups
        wake = engine.next_wakeup()
        assert wake is not None
        assert wake > clock.now
        clock.now = wake
        sent(engine)


def test_command_cum_and_clim_answers() -> None:
    engine, _ = make()
    cmd = engine.command("pi-light", "light", "home", [0], {"quiet": True})
    cum = engine.cum("door")
    clim = engine.clim("pi-alarm", {"target": 21})
    out = {m["type"]: m for _, m in sent(engine)}
    assert out["cmd"] | {"mid": None} == {
        "type": "cmd", "role": "light", "cmd": "home", "args": [0],
        "kwargs": {"quiet": True}, "mid": None,
    }  # fmt: skip
    assert out["clim"]["clim"] == {"target": 21}
    send(
        engine,
        LIGHT,
        {"type": "cmd", "role": "light", "cmd": "home", "res": "ok", "re": out["cmd"]["mid"]},
    )
    send(engine, ALARM, {"type": "cum", "fld": "door", "cum": {"opened": 3}})
    send(engine, ALARM, {"type": "clim", "res": {"target": 21}, "re": out["clim"]["mid"]})
    send(engine, ALARM, {"type": "clim", "res": {}, "re": out["clim"]["mid"]})  # a repeat
    assert results(engine) == [
        Result(cmd, True, "ok"),
        Result(cum, True, {"opened": 3}),
        Result(clim, True, {"target": 21}),
    ]
    assert engine.controller_for_role("security") == "pi-alarm"


def test_controller_pulses_and_asks() -> None:
    engine, _ = make()
    pulse = {"type": "io", "cmd": "pulse", "io": "bell", "val": 1, "mid": "cc:1"}
    send(engine, ALARM, pulse)
    send(engine, ALARM, pulse)
    send(engine, ALARM, {"type": "io", "cmd": "ask", "io": "door", "val": None})
    out = [m for _, m in sent(engine)]
    assert [m["cmd"] for m in out] == ["reply_pulse", "reply_pulse", "reply"]
    assert out[0]["re"] == "cc:1"
    pulses = [e for e in engine.take_events() if isinstance(e, PulseReceived)]
    assert pulses == [PulseReceived("pi-alarm", "bell")]


def test_signed_site_refuses_unsigned() -> None:
    engine, _ = make(SITE.replace("ttl: 30", "ttl: 30\nkey: a-long-shared-key"))
    send(engine, ALARM, wire.io("set", "door", 1))
    assert engine.diagnostics()["controllers"]["pi-alarm"]["errors"] == {wire.ERR_SIGNATURE: 1}
    for data in wire.pack([wire.io("set", "door", 1)], "a-long-shared-key", 1e9):
        engine.receive(data, ALARM)
    assert engine.values["door"] is True
