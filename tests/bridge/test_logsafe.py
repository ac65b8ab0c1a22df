"""Secrets never reach a log line, whichever logger emits them."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from cloud_bridge.logsafe import REDACTED, RedactingFilter, key_secrets, setup_logging


def test_every_logger_is_redacted(tmp_path: Path) -> None:
    key = tmp_path / "private.pem.key"
    key.write_text(
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n"
        "-----END PRIVATE KEY-----\n"
    )
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        redactor = setup_logging(
            "debug", ["instance-pw-1", "ha-token-xyz", "ab", *key_secrets(key)]
        )
        logging.getLogger("paho.client").warning("password=%s", "instance-pw-1")
        logging.getLogger("some.library").info("Bearer ha-token-xyz and %d", 5)
        logging.getLogger("x").error("key %s", key.read_text())
        try:
            raise ValueError("failed with instance-pw-1")
        except ValueError:
            logging.getLogger("y").exception("boom")
        logging.getLogger("z").info("ab stays readable: short values are not secrets")
        logging.getLogger("w").info("broken %d format", "x")
    finally:
        root.removeHandler(handler)
        for h in root.handlers:
            h.removeFilter(redactor)
    text = stream.getvalue()
    assert "instance-pw-1" not in text
    assert "ha-token-xyz" not in text
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in text
    assert text.count(REDACTED) >= 4
    assert "Bearer **REDACTED** and 5" in text
    assert "ab stays readable" in text
    assert "broken %d format" in text


def test_filter_stack_info_and_missing_key() -> None:
    redactor = RedactingFilter(["secret-value"])
    record = logging.LogRecord("n", logging.INFO, "f", 1, "m", None, None, sinfo="at secret-value")
    assert redactor.filter(record)
    assert record.stack_info == f"at {REDACTED}"
    assert key_secrets(Path("/nonexistent/key.pem")) == []
