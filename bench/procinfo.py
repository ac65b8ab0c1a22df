"""Memory of a running process, from /proc."""

from __future__ import annotations

from pathlib import Path


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """VmRSS (or VmHWM) of `pid` in KiB, summed over nothing else; 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0
