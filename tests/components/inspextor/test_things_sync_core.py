"""things_sync protocol core without sockets: site file, ids, signing, codec, pending."""

from __future__ import annotations

import json

import pytest

from custom_components.inspextor.things_sync import sign, wire
from custom_components.inspextor.things_sync.msgid import DedupWindow, MessageIds, parse_mid
from custom_components.inspextor.things_sync.pending import Backoff, PendingTable
from custom_components.inspextor.things_sync.site import Direction, SiteError, parse_site

SITE = """
name: home
home_assistant: {host: 127.0.0.1, port: 5005}
ttl: 30
controllers:
  pi-light: {host: 127.0.0.2, port: 5006, roles: [light, cmd_do]}
  pi-alarm: {host: 127.0.0.3, port: 5006, roles: [security]}
things:
  hall_light: {owner: pi-light, type: bool, direction: output, area: Hall}
  dimmer: {owner: pi-light, type: int, direction: output, min: 0, max: 100, unit: "%"}
  door: {owner: pi-alarm, type: bool, direction: input, device_class: door}
  bell: {owner: pi-alarm, type: bool, direction: pulse}
"""


def test_site_file_parses() -> None:
    site = parse_site(SITE)
    assert site.ttl == 30.0
    assert site.controllers["pi-light"].roles == ("light", "cmd_do")
    assert [t.name for t in site.things_of("pi-alarm")] == ["door", "bell"]
    assert site.things["dimmer"].maximum == 100.0
    assert site.things["bell"].direction is Direction.PULSE
    assert parse_site(SITE.replace("ttl: 30", "ttl: forever")).ttl is None
    as_json = json.dumps({"controllers": {"a": {"host": "127.0.0.9", "port": 9}}, "things": {}})
    with pytest.raises(SiteError, match="things must be a non-empty"):
        parse_site(as_json)


@pytest.mark.parametrize(
    ("change", "where", "error"),
    [
        (
            (
                "owner: pi-alarm, type: bool, direction: input",
                "owner: pi-x, type: bool, direction: input",
            ),
            "thing door",
            "unknown_owner",
        ),
        (
            ("type: int, direction: output", "type: long, direction: output"),
            "thing dimmer",
            "invalid_site_file",
        ),
        (("direction: pulse", "direction: sideways"), "thing bell", "invalid_site_file"),
        (("host: 127.0.0.3", "host: alarm.local"), "controller pi-alarm", "invalid_site_file"),
        (("host: 127.0.0.3", "host: 127.0.0.2"), "controller pi-alarm", "invalid_site_file"),
        (("port: 5005", "port: 70000"), "home_assistant", "invalid_site_file"),
        (("ttl: 30", "ttl: -1"), "ttl", "invalid_site_file"),
        (("ttl: 30", "ttl: 30\nkey: short"), "key", "invalid_site_file"),
        (("ttl: 30", "ttl: 30\ncolour: red"), "site", "invalid_site_file"),
        (
            ("device_class: door", "device_class: door, colour: red"),
            "thing door",
            "invalid_site_file",
        ),
        (
            ("type: bool, direction: pulse", "type: int, direction: pulse"),
            "thing bell",
            "invalid_site_file",
        ),
        (("roles: [security]", "roles: security"), "controller pi-alarm", "invalid_site_file"),
        (("min: 0", "min: low"), "thing dimmer", "invalid_site_file"),
        (("area: Hall", "area: 3"), "thing hall_light", "invalid_site_file"),
        (
            ("type: bool, direction: output", "type: str, direction: output"),
            "thing hall_light",
            "invalid_site_file",
        ),
        (
            ("pi-light: {host: 127.0.0.2, port: 5006, roles: [light, cmd_do]}", "pi-light: 5"),
            "controller pi-light",
            "invalid_site_file",
        ),
        (
            (
                "pi-light: {host: 127.0.0.2, port: 5006, roles: [light, cmd_do]}",
                "pi-light: {host: 127.0.0.2, port: 5006, colour: 1}",
            ),
            "controller pi-light",
            "invalid_site_file",
        ),
        (
            (
                "pi-light: {host: 127.0.0.2, port: 5006, roles: [light, cmd_do]}",
                "pi-light: {host: 127.0.0.2}",
            ),
            "controller pi-light",
            "invalid_site_file",
        ),
        (
            ("bell: {owner: pi-alarm, type: bool, direction: pulse}", "bell: 3"),
            "thing bell",
            "invalid_site_file",
        ),
        (("bell: {owner: pi-alarm", "'': {owner: pi-alarm"), "things", "invalid_site_file"),
        (
            ("home_assistant: {host: 127.0.0.1, port: 5005}", "home_assistant: 5"),
            "home_assistant",
            "invalid_site_file",
        ),
    ],
)
def test_site_file_errors_name_the_culprit(change: tuple[str, str], where: str, error: str) -> None:
    with pytest.raises(SiteError) as caught:
        parse_site(SITE.replace(*change))
    assert caught.value.where == where
    assert caught.value.error == error
    assert caught.value.placeholders["where"] == where


@pytest.mark.parametrize("text", ["[1, 2]", "controllers: [", "- a"])
def test_site_file_that_is_not_a_mapping(text: str) -> None:
    with pytest.raises(SiteError) as caught:
        parse_site(text)
    assert caught.value.where == "site"


def test_dedup_window_drops_repeats_and_survives_wrap() -> None:
    window = DedupWindow(window=8, modulus=64)
    ids = MessageIds(boot="b1", start=60, modulus=64)
    mids = [parse_mid(ids.next(), 64) for _ in range(10)]  # 61, 62, 63, 0, 1, ... wraps
    assert [m[1] for m in mids if m] == [61, 62, 63, 0, 1, 2, 3, 4, 5, 6]
    assert all(window.check(*m) for m in mids if m)
    assert not any(window.check(*m) for m in mids[3:] if m)  # repeats after the wrap
    assert not window.check("b1", 62)  # older than the window: stale, not new
    assert window.check("b1", 7)
    assert window.newer("b1", 0, ("b1", 63))  # 0 comes after 63 across the wrap
    assert not window.newer("b1", 63, ("b1", 0))


def test_dedup_window_restart_is_a_new_life() -> None:
    window = DedupWindow(window=8)
    assert window.check("old", 5)
    assert window.check("new", 1)  # restarted sender counts from 1 again: not a repeat
    assert not window.check("new", 1)
    assert window.check("old", 4)  # a late straggler of the old life still de-duplicated
    assert not window.check("old", 4)
    for boot in ("c", "d", "e", "f"):
        window.check(boot, 1)
    assert window.check("old", 5)  # forgotten after BOOTS_KEPT newer lives
    with pytest.raises(ValueError, match="half"):
        DedupWindow(window=40, modulus=64)


def test_dedup_window_prunes_what_falls_out() -> None:
    window = DedupWindow(window=4)
    for seq in range(1, 40):
        assert window.check("b", seq)
    assert not window.check("b", 35)
    assert window.check("b", 38) is False


@pytest.mark.parametrize("mid", [None, 5, "nocolon", ":5", "b:x", "b:-1", "b:" + "9" * 20])
def test_bad_message_ids_are_no_ids(mid: object) -> None:
    assert parse_mid(mid) is None


def test_signature_round_trip_and_refusals() -> None:
    key = "correct horse"
    messages = [{"type": "io", "cmd": "set", "io": "a", "val": 1}]
    items = [*messages, sign.signature(key, 1000.0, messages)]
    assert sign.verify(key, items, 1000.5) == messages
    assert sign.verify("other key", items, 1000.5) is None
    assert sign.verify(key, items, 1000.0 + 31) is None  # replayed later
    tampered = [{**messages[0], "val": 0}, items[1]]
    assert sign.verify(key, tampered, 1000.5) is None
    assert sign.verify(key, messages, 1000.5) is None
    assert sign.verify(key, [], 1000.5) is None
    assert sign.verify(key, [*messages, {"type": "sig", "ts": "x", "mac": "y"}], 1000) is None


def test_pack_splits_to_datagrams_that_do_not_fragment() -> None:
    messages = [wire.io("reply", f"thing_{n:04d}", n * 1.5) for n in range(500)]
    for key in (None, "a shared key"):
        datagrams = wire.pack(messages, key, 1000.0)
        assert len(datagrams) > 10
        assert max(len(d) for d in datagrams) <= wire.MAX_DATAGRAM
        back = [m for d in datagrams for m in wire.unpack(d, key, 1000.0).messages]
        assert back == messages
    with pytest.raises(ValueError, match="does not fit"):
        wire.pack([wire.io("set", "x", "y" * 1500)], None, 0.0)


@pytest.mark.parametrize(
    ("data", "key", "error"),
    [
        (b"\xff\xfe", None, wire.ERR_JSON),
        (b"{not json", None, wire.ERR_JSON),
        (b"[" + b"1," * 800 + b"1]", None, wire.ERR_JSON),
        (b'[{"type":"io"}]', "a shared key", wire.ERR_SIGNATURE),
    ],
)
def test_unpack_never_raises(data: bytes, key: str | None, error: str) -> None:
    assert wire.unpack(data, key, 0.0).error == error


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    low = Backoff(base=0.5, cap=3.0, rng=lambda: 0.0)
    high = Backoff(base=0.5, cap=3.0, rng=lambda: 1.0)
    assert [low.delay(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [
        0.375, 0.75, 1.5, 2.25, 2.25, 2.25, 2.25,
    ]  # fmt: skip
    assert high.delay(1) == 0.625
    assert high.delay(10) == 3.75


def test_pending_repeats_newest_value_and_expires() -> None:
    table = PendingTable(Backoff(rng=lambda: 0.5))
    table.add(("set", "a"), "pi", {"val": 1}, 0.0, ttl=3.0, waiter=1)
    sent, expired = table.due(0.0)
    assert [p.message for p in sent] == [{"val": 1}]
    assert not expired
    assert table.next_wakeup() == 0.5
    assert table.due(0.4) == ([], [])
    table.add(("set", "a"), "pi", {"val": 2}, 0.45, ttl=3.0, waiter=2)
    sent, _ = table.due(0.45)
    assert [p.message for p in sent] == [{"val": 2}]  # at once, the newest value
    times = []
    now = 0.45
    while (wake := table.next_wakeup()) is not None:
        now = wake
        sent, expired = table.due(now)
        times.append(now)
        if expired:
            assert expired[0].waiters == [1, 2]
            break
    assert times == [0.95, 1.95, 3.45]  # 0.5, 1.0, then cut at the deadline
    assert len(table) == 0


def test_pending_resolve_and_drop() -> None:
    table = PendingTable()
    table.add(("ask", "a"), "pi", {}, 0.0, ttl=None)
    table.add(("ask", "b"), "other", {}, 0.0, ttl=None)
    assert ("ask", "a") in table
    assert table.resolve(("ask", "a")) is not None
    assert table.resolve(("ask", "a")) is None
    assert [p.key for p in table.drop_controller("other")] == [("ask", "b")]
    assert table.next_wakeup() is None


@pytest.mark.parametrize(
    ("kind", "value"),
    [("str", "x" * 300), ("int", 1.5), ("float", float("inf")), ("int", "7"), ("bool", 2)],
)
def test_values_of_the_wrong_kind_are_refused(kind: str, value: object) -> None:
    from custom_components.inspextor.things_sync.site import Thing, ValueType
    from custom_components.inspextor.things_sync.values import coerce

    thing = Thing("t", "pi", ValueType(kind), Direction.INPUT)
    with pytest.raises(ValueError, match="not"):
        coerce(thing, value)
    assert coerce(Thing("n", "pi", ValueType.INT, Direction.INPUT), 3.0) == 3
