"""What the figures were measured on, read at run time."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata
import os
from pathlib import Path
import platform
import subprocess

from devkit.devcloud.broker import find_mosquitto


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def mosquitto_version() -> str:
    """`mosquitto -h` prints its version on the first line."""
    binary = find_mosquitto()
    if binary is None:
        return "not installed"
    proc = subprocess.run(  # noqa: PLW1510 - mosquitto -h exits 3 by design
        [binary, "-h"], capture_output=True, text=True, timeout=10
    )
    first = (proc.stdout or proc.stderr).splitlines()
    return first[0].strip() if first else "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python, HA, paho and Mosquitto versions, and the date."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or "unknown"),
        "ram": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "homeassistant": _version("homeassistant"),
        "paho-mqtt": _version("paho-mqtt"),
        "mosquitto": mosquitto_version(),
        "load average at the end (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
