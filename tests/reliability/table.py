"""The suite's result table: one row per fault, printed at the end of the session."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Row:
    """What one fault injection found."""

    fault: str
    tried: int
    lost: int
    duplicated: int
    crashes: int
    note: str = ""


ROWS: list[Row] = []


def record(
    fault: str, tried: int, lost: int, duplicated: int, crashes: int, note: str = ""
) -> None:
    """Add a row (call it before the test's assertions, so failures are reported too)."""
    ROWS.append(Row(fault, tried, lost, duplicated, crashes, note))


def render(rows: list[Row]) -> list[str]:
    """The rows as an aligned text table."""
    head = ("fault", "tried", "lost", "duplicated", "crashes", "note")
    body = [
        (r.fault, str(r.tried), str(r.lost), str(r.duplicated), str(r.crashes), r.note)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    fmt = lambda line: " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line))  # noqa: E731
    return [fmt(head), "-+-".join("-" * w for w in widths), *(fmt(line) for line in body)]
