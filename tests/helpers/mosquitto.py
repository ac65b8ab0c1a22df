"""Start a real Mosquitto broker on a free loopback port for a test.

Every test that exercises MQTT talks to a broker started here; nothing relies on a
service started by hand. Optional mutual TLS plays AWS IoT Core for the awsiotsdk path.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import time

from devkit.devcloud.broker import find_mosquitto
from devkit.devstack.stack import free_port

__all__ = [
    "Broker",
    "TLSFiles",
    "free_port",
    "mosquitto_path",
    "running_broker",
    "start_broker",
]


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the certificates a mutual-TLS broker is configured with."""

    ca: Path
    cert: Path
    key: Path


@dataclass
class Broker:
    """A running Mosquitto process."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    tls: TLSFiles | None = None

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def restart(self) -> None:
        """Start the broker again on the same port (after stop())."""
        self.stop()
        self.process = _spawn(self.workdir / "mosquitto.conf", self.port)

    @property
    def log(self) -> str:
        """What the broker wrote to its log file."""
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


def mosquitto_path() -> str | None:
    """The mosquitto binary, or None when it is not installed."""
    return find_mosquitto()


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {port} within {timeout}s")


def _listener_ports(conf: Path) -> list[int]:
    """Every port the configuration listens on (`listener <port> [address]` lines)."""
    ports = []
    for line in conf.read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "listener" and words[1].isdigit():
            ports.append(int(words[1]))
    return ports


def _spawn(conf: Path, port: int) -> subprocess.Popen[bytes]:
    binary = mosquitto_path()
    if binary is None:
        raise RuntimeError("mosquitto is not installed (scripts/bootstrap.sh installs it)")
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # Mosquitto opens its listeners one after the other (a TLS one loads its certificates
    # first): the broker is up once every one of them accepts, not only the first.
    for listener in dict.fromkeys([port, *_listener_ports(conf)]):
        _wait_port(listener, proc)
    return proc


def start_broker(
    port: int | None = None,
    tls: TLSFiles | None = None,
    extra_conf: str = "",
    persistent: bool = False,
) -> Broker:
    """Start Mosquitto on 127.0.0.1; with `tls`, require client certificates.

    `persistent` keeps sessions (subscriptions and queued QoS 1 messages of clients that
    are away) across `Broker.restart()`, as a production broker does.
    """
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mosq-"))
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "set_tcp_nodelay true",
        *(
            ["persistence true", f"persistence_location {workdir}/"]
            if persistent
            else ["persistence false"]
        ),
        f"log_dest file {workdir / 'mosquitto.log'}",
        "log_type all",
        "max_inflight_messages 0",
        "max_queued_messages 100000",
    ]
    if os.geteuid() == 0:
        # Started as root, Mosquitto drops to the `mosquitto` user, which cannot read the
        # 0700 temporary folder (its log, its config, test certificates). Stay root.
        lines.append("user root")
    if tls is not None:
        lines += [
            f"cafile {tls.ca}",
            f"certfile {tls.cert}",
            f"keyfile {tls.key}",
            "require_certificate true",
            "use_identity_as_username true",
        ]
    conf = workdir / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n" + extra_conf)
    return Broker("127.0.0.1", port, _spawn(conf, port), workdir, tls)


@contextlib.contextmanager
def running_broker(**kwargs: object) -> Iterator[Broker]:
    """Context manager around start_broker()."""
    broker = start_broker(**kwargs)  # type: ignore[arg-type]
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.workdir, ignore_errors=True)
