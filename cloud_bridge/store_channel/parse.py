"""Command strings of the source (`call_service('light.turn_on', 'light.kitchen', {...})`)
parsed as Python call syntax with literal arguments only: nothing is ever evaluated.

The command file itself (a JSON list of `{"command": "..."}`) is checked here too, with
limits on size, depth and count, so a hostile file is refused before anything runs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
import json
import math
from typing import Any

MAX_FILE_BYTES = 1024 * 1024
MAX_COMMANDS = 100
MAX_COMMAND_CHARS = 16 * 1024
MAX_DEPTH = 16
DEFAULT_TTL = 24 * 3600.0

# verb -> (least, most) positional arguments
VERBS: dict[str, tuple[int, int]] = {
    "get_status": (0, 0),
    "ping": (0, 0),
    "resync": (0, 0),
    "get_states": (0, 1),
    "call_service": (2, 3),
    "export_diagnostics": (0, 0),
    "get_outbox": (0, 0),
}


class CommandSyntaxError(ValueError):
    """One command string is not a known verb with literal arguments."""


class FileFormatError(ValueError):
    """The whole command file is refused (nothing in it runs)."""


@dataclass(frozen=True, slots=True)
class Call:
    """A parsed command."""

    verb: str
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CommandFile:
    """A checked command file: its command strings, its issue time and time-to-live."""

    commands: tuple[str, ...]
    issued_at: float | None
    ttl: float


def _depth(node: ast.AST, limit: int) -> None:
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            raise CommandSyntaxError(f"arguments nested deeper than {limit}")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))


def parse_call(text: str) -> Call:
    """Parse one command string; raises CommandSyntaxError with the reason."""
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandSyntaxError(f"longer than {MAX_COMMAND_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CommandSyntaxError("not a call such as get_status()") from None
    _depth(tree, MAX_DEPTH * 3)
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise CommandSyntaxError("not a call such as get_status()")
    verb = call.func.id
    if verb not in VERBS:
        raise CommandSyntaxError(f"unknown command {verb!r} (known: {', '.join(VERBS)})")
    if call.keywords:
        raise CommandSyntaxError(f"{verb} takes positional arguments only")
    least, most = VERBS[verb]
    if not least <= len(call.args) <= most:
        wanted = str(least) if least == most else f"{least} to {most}"
        raise CommandSyntaxError(f"{verb} takes {wanted} arguments, not {len(call.args)}")
    args = []
    for index, arg in enumerate(call.args, 1):
        try:
            args.append(ast.literal_eval(arg))
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise CommandSyntaxError(f"argument {index} of {verb} is not a literal") from None
    return Call(verb, tuple(args))


def _json_depth(value: Any, limit: int) -> None:
    stack = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            raise FileFormatError(f"nested deeper than {limit} levels")
        if isinstance(current, dict):
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, list):
            stack.extend((v, depth + 1) for v in current)


def parse_file(data: bytes, default_ttl: float = DEFAULT_TTL) -> CommandFile:
    """Check a command file: the source's JSON list of `{"command": "..."}`, or an object
    `{"commands": [...], "issued_at": epoch, "ttl": seconds}` that adds a time-to-live."""
    if len(data) > MAX_FILE_BYTES:
        raise FileFormatError(f"{len(data)} bytes, more than {MAX_FILE_BYTES} accepted")
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FileFormatError("not valid JSON") from None
    _json_depth(obj, MAX_DEPTH)
    issued_at: float | None = None
    ttl = default_ttl
    if isinstance(obj, dict):
        issued_at = _number(obj, "issued_at")
        ttl = _number(obj, "ttl") or default_ttl
        obj = obj.get("commands")
    if not isinstance(obj, list):
        raise FileFormatError("not a JSON list of commands")
    if len(obj) > MAX_COMMANDS:
        raise FileFormatError(f"{len(obj)} commands, more than {MAX_COMMANDS} accepted")
    commands = []
    for index, item in enumerate(obj, 1):
        text = item.get("command") if isinstance(item, dict) else None
        if not isinstance(text, str):
            raise FileFormatError(f"entry {index} is not an object with a command string")
        commands.append(text)
    return CommandFile(tuple(commands), issued_at, ttl)


def _number(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FileFormatError(f"{key} must be a number")
    if key == "ttl" and value <= 0:
        raise FileFormatError("ttl must be positive")
    return float(value)
