"""Command strings and command files: literal arguments only, limits on everything."""

from __future__ import annotations

import json

import pytest

from cloud_bridge.store_channel.backend import check_key
from cloud_bridge.store_channel.parse import (
    MAX_COMMANDS,
    Call,
    CommandSyntaxError,
    FileFormatError,
    parse_call,
    parse_file,
)


def test_the_sources_call_syntax_with_literals_is_read() -> None:
    assert parse_call("call_service('light.turn_on', 'light.kitchen', {'brightness': 128})") == (
        Call("call_service", ("light.turn_on", "light.kitchen", {"brightness": 128}))
    )
    assert parse_call("  get_states(['a.b', 'c.d'])  ") == Call("get_states", (["a.b", "c.d"],))
    assert parse_call("get_status()") == Call("get_status", ())


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 20_000, "longer than"),
        ("get_status(", "not a call"),
        ("1 + 1", "not a call"),
        ("os.system('reboot')", "not a call"),
        ("get_status()()", "not a call"),
        ("eval('1')", "unknown command 'eval'"),
        ("__import__('os')", "unknown command"),
        ("ping(x=1)", "positional arguments only"),
        ("call_service('a.b')", "takes 2 to 3 arguments, not 1"),
        ("get_states([open('/etc/passwd')])", "argument 1 of get_states is not a literal"),
        ("get_states(" + "[" * 100 + "]" * 100 + ")", "nested deeper"),
        ("ping(); get_status()", "not a call"),
        ("lambda: 1", "not a call"),
    ],
)
def test_anything_but_a_known_verb_with_literals_is_refused(text: str, error: str) -> None:
    with pytest.raises(CommandSyntaxError, match=error):
        parse_call(text)


def test_a_file_may_name_its_issue_time_and_ttl() -> None:
    body = {"commands": [{"command": "ping()"}], "issued_at": 1_700_000_000, "ttl": 60}
    parsed = parse_file(json.dumps(body).encode())
    assert parsed.commands == ("ping()",)
    assert parsed.issued_at == 1_700_000_000.0
    assert parsed.ttl == 60.0
    assert parse_file(b'[{"command": "ping()"}]', default_ttl=5).ttl == 5


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"commands": [], "ttl": 0}, "ttl must be positive"),
        ({"commands": [], "issued_at": True}, "issued_at must be a number"),
        ({"commands": [], "ttl": "soon"}, "ttl must be a number"),
        ({"commands": [{"command": "ping()"}] * (MAX_COMMANDS + 1)}, "more than 100"),
        ([{"command": 5}], "entry 1 is not an object with a command string"),
        ({"ttl": 5}, "not a JSON list"),
    ],
)
def test_a_bad_file_is_refused_whole(body: object, error: str) -> None:
    with pytest.raises(FileFormatError, match=error):
        parse_file(json.dumps(body).encode())


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(FileFormatError, match="not valid JSON"):
        parse_file(b"\xff\xfe[]")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
def test_a_store_key_never_leaves_its_store(key: str) -> None:
    with pytest.raises(ValueError, match="bad store key"):
        check_key(key)
