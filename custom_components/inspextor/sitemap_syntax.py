"""Site map syntax errors in plain words: where (line, column) and what was expected.

PyYAML and json speak in parser terms ("expected ',' or '}', but got '<stream end>'");
a user editing a site map needs to know which line to look at and what to type there.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

# (words in the parser's message, what a user reads); the first match wins.
YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("expected ',' or '}'", "a { is not closed with } (or a comma is missing)"),
    ("expected ',' or ']'", "a [ is not closed with ] (or a comma is missing)"),
    ("found character '\\t'", "a tab: indent with spaces"),
    ("mapping values are not allowed", "a colon where none belongs (quote a text with a colon)"),
    ("could not find expected ':'", "a colon is missing after a name"),
    ("expected <block end>", "the indentation does not line up with the lines above"),
    ("did not find expected key", "the indentation does not line up with the lines above"),
    ("found unexpected end of stream", "a quoted text is not closed"),
    ("found duplicate anchor", "an anchor (&) is defined twice"),
    ("found undefined alias", "an alias (*) names no anchor"),
)

JSON_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("Expecting ',' delimiter", "a comma is missing"),
    ("Expecting ':' delimiter", "a colon is missing after a name"),
    ("Illegal trailing comma", "a comma before a closing bracket: remove it"),
    ("Expecting property name", "a name in double quotes was expected"),
    ("Expecting value", "a value was expected"),
    ("Unterminated string", "a quoted text is not closed"),
    ("Extra data", "there is more text after the end of the map"),
    ("Invalid control character", "a line break inside a quoted text"),
)


def _words(message: str, table: tuple[tuple[str, str], ...], fallback: str) -> str:
    return next((plain for words, plain in table if words in message), fallback)


def json_error(err: json.JSONDecodeError) -> str:
    """`line 2, column 5: a comma is missing`."""
    what = _words(err.msg, JSON_PROBLEMS, "this is not valid JSON")
    return f"line {err.lineno}, column {err.colno}: {what}"


def yaml_error(err: yaml.YAMLError) -> str:
    """`line 3, column 1: a { is not closed with } (opened on line 1)`."""
    problem = str(getattr(err, "problem", "") or "")
    what = _words(problem, YAML_PROBLEMS, "this is not valid YAML")
    mark: Any = getattr(err, "problem_mark", None)
    context: Any = getattr(err, "context_mark", None)
    if context is not None and mark is not None and context.line != mark.line:
        what += f" (it starts on line {context.line + 1})"
    if mark is None:
        return what
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}"
