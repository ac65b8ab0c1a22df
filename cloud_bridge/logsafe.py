"""Logging setup: one-line records and a filter that redacts every secret, whoever logs."""

from __future__ import annotations

from collections.abc import Iterable
import logging
from pathlib import Path
import sys

REDACTED = "**REDACTED**"
# Shorter values would redact ordinary words; config validation keeps real secrets longer.
MIN_SECRET_LENGTH = 4
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Replace every known secret in a record's message, arguments and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Register more secret values (longest first, so overlaps redact fully)."""
        for value in secrets:
            if value and len(value) >= MIN_SECRET_LENGTH and value not in self._secrets:
                self._secrets.append(value)
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced."""
        for value in self._secrets:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def key_secrets(path: Path) -> list[str]:
    """The body lines of a PEM private key, so that key contents never reach a log."""
    try:
        text = path.read_text(encoding="ascii", errors="ignore")
    except OSError:
        return []
    lines = [line.strip() for line in text.splitlines()]
    body = [line for line in lines if line and not line.startswith("-----")]
    return [*body, text.strip()] if body else []


def setup_logging(level: str, secrets: Iterable[str]) -> RedactingFilter:
    """Log to stderr in one line per record; the filter sits on every root handler."""
    redactor = RedactingFilter(secrets)
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(stream)
    for handler in root.handlers:
        handler.addFilter(redactor)
    for name in ("paho", "awscrt", "aiohttp.access"):
        logging.getLogger(name).setLevel(max(root.level, logging.INFO))
    return redactor
