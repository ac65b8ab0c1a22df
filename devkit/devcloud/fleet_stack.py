"""AWS IoT Core's identity side for the dev cloud, on a real Mosquitto.

A dev CA signs the broker's certificate, the dev cloud's own (all topics), a claim
certificate and every CSR. Mosquitto runs with mutual TLS (`require_certificate`,
`use_identity_as_username`), the ACL and CRL that `FleetProvisioning` writes, and rereads
both on SIGHUP. A ping echo plays the ping rule and reply, so a trial connection works.
`python -m devkit.devcloud fleet` runs it; the tests start it through tests/helpers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import time

from cloud_bridge.protocol.packets import decode, encode, ping_reply
from cloud_bridge.transport.base import ConnectionEvent
from cloud_bridge.transport.mqtt import MqttTransport
from cloud_bridge.transport.tls import TLSSettings
from devkit.devstack.stack import free_port

from .broker import _wait_listening, find_mosquitto, spawn_mosquitto, stop_process
from .ca import DevCA
from .fleet import FleetProvisioning, PolicyFiles

SUPERUSER = "devcloud"
CLAIM_CN = "claim-installer-1"
RELOADED = "Reloading config."
RUNNING = " running"  # "mosquitto version 2.0.11 running"
START_ATTEMPTS = 5


@dataclass
class TLSBroker:
    """A Mosquitto process with mutual TLS, reloadable."""

    host: str
    port: int
    process: asyncio.subprocess.Process
    workdir: Path

    @property
    def log(self) -> str:
        """What the broker wrote to its log."""
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def reload(self) -> None:
        """SIGHUP, then wait until the log says it reread its configuration.

        On a loaded machine the line can take a while: the signal is repeated every 5 s
        (a second reload is harmless), for at most 30 s. Only the log's new bytes are read.
        """
        path = self.workdir / "mosquitto.log"
        start = await asyncio.to_thread(lambda: path.stat().st_size if path.exists() else 0)
        for _ in range(6):
            os.kill(self.process.pid, signal.SIGHUP)
            for _ in range(250):
                if RELOADED in await asyncio.to_thread(_read_from, path, start):
                    return
                await asyncio.sleep(0.02)
        raise TimeoutError("mosquitto did not reload its configuration")

    async def stop(self) -> None:
        """Stop the broker."""
        await stop_process(self.process)


def _read_from(path: Path, offset: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


@dataclass
class FleetStack:
    """The running broker, the provisioning service, and the files a bridge is given."""

    broker: TLSBroker
    fleet: FleetProvisioning
    directory: Path
    ca_file: Path
    claim_cert: Path
    claim_key: Path
    superuser: tuple[Path, Path]
    _echo: MqttTransport | None = field(default=None, repr=False)

    def cloud_transport(self, client_id: str) -> MqttTransport:
        """A connection with the dev cloud's own certificate (every topic)."""
        cert, key = self.superuser
        return MqttTransport(
            "localhost", self.broker.port, client_id, tls=TLSSettings(self.ca_file, cert, key)
        )


async def start_tls_broker(directory: Path, host: str, port: int, ca: DevCA) -> TLSBroker:
    """Mosquitto on host:port trusting `ca` only, with `acl` and `crl.pem` in `directory`."""
    binary = find_mosquitto()
    if binary is None:
        raise OSError("mosquitto is not installed")
    server_cert, server_key = ca.write_pair(directory, "localhost", server=True)
    lines = [
        f"listener {port} {host}",
        "persistence false",
        "set_tcp_nodelay true",
        f"log_dest file {directory / 'mosquitto.log'}",
        "log_type all",
        f"cafile {directory / 'ca.pem'}",
        f"certfile {server_cert}",
        f"keyfile {server_key}",
        "require_certificate true",
        "use_identity_as_username true",
        f"acl_file {directory / 'acl'}",
        f"crlfile {directory / 'crl.pem'}",
    ]
    if os.geteuid() == 0:
        lines.append("user root")  # as root Mosquitto would drop to a user who cannot read these
    conf = directory / "mosquitto.conf"
    await asyncio.to_thread(conf.write_text, "\n".join(lines) + "\n")
    process = await spawn_mosquitto(binary, conf)
    broker = TLSBroker(host, port, process, directory)
    try:
        await _wait_running(broker)
    except OSError:
        await broker.stop()
        raise
    return broker


async def _wait_running(broker: TLSBroker, timeout: float = 10.0) -> None:
    """Until the log says "running" (a taken port makes Mosquitto exit instead)."""
    deadline = time.monotonic() + timeout
    path = broker.workdir / "mosquitto.log"
    while RUNNING not in await asyncio.to_thread(_read_from, path, 0):
        if broker.process.returncode is not None:
            raise OSError(f"mosquitto exited with code {broker.process.returncode}")
        if time.monotonic() > deadline:
            raise OSError(f"mosquitto did not start on port {broker.port}")
        await asyncio.sleep(0.05)
    await _wait_listening(broker.host, broker.port, broker.process)


async def _echo_pings(stack: FleetStack) -> MqttTransport:
    """Answer `<prefix>/ping` on `<prefix>/<cid>/ping` as the ping rule and service do."""
    echo = stack.cloud_transport("devcloud-ping-echo")
    prefix = stack.fleet.prefix
    tasks: set[asyncio.Task[None]] = set()

    def on_message(_topic: str, payload: bytes) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            request = decode(payload)
            reply = encode(ping_reply(request, time.time()))
            topic = f"{prefix}/{request['contract_id']}/ping"
            task = asyncio.get_running_loop().create_task(echo.publish(topic, reply, 1))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def on_connection(_event: ConnectionEvent) -> None:
        return None

    echo.set_handlers(on_message, on_connection)
    await echo.connect()
    await echo.subscribe(f"{prefix}/ping", 1)
    return echo


def _first_files(directory: Path, ca: DevCA, claim_cn: str) -> tuple[Path, Path, Path]:
    (directory / "ca.pem").write_bytes(ca.cert_pem)
    (directory / "acl").write_text(f"user {SUPERUSER}\ntopic readwrite #\ntopic readwrite $aws/#\n")
    ca.write_crl(directory / "crl.pem")
    claim_cert, claim_key = ca.write_pair(directory, claim_cn)
    return directory / "ca.pem", claim_cert, claim_key


async def _start_on_a_port(directory: Path, host: str, port: int | None, ca: DevCA) -> TLSBroker:
    """On `port`, or on a free one (another free one if it was taken meanwhile)."""
    for attempt in range(START_ATTEMPTS):
        try:
            return await start_tls_broker(directory, host, port or free_port(), ca)
        except OSError:
            if port is not None or attempt == START_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.asynccontextmanager
async def fleet_stack(
    directory: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    templates: frozenset[str] = frozenset({"inspextor-fleet"}),
    cert_days: float = 365,
    prefix: str = "inx",
) -> AsyncIterator[FleetStack]:
    """Start the broker, the provisioning service and the ping echo; stop them after."""
    ca = DevCA.create()
    ca_file, claim_cert, claim_key = await asyncio.to_thread(_first_files, directory, ca, CLAIM_CN)
    superuser = await asyncio.to_thread(ca.write_pair, directory, SUPERUSER)
    broker = await _start_on_a_port(directory, host, port, ca)
    transport = MqttTransport(
        "localhost", broker.port, "devcloud-fleet", tls=TLSSettings(ca_file, *superuser)
    )
    policy = PolicyFiles(directory / "acl", directory / "crl.pem", broker.reload)
    fleet = FleetProvisioning(
        ca,
        transport,
        policy,
        templates=templates,
        superuser=SUPERUSER,
        prefix=prefix,
        cert_days=cert_days,
    )
    fleet.claims.add(CLAIM_CN)
    stack = FleetStack(broker, fleet, directory, ca_file, claim_cert, claim_key, superuser)
    try:
        await fleet.start()
        stack._echo = await _echo_pings(stack)
        yield stack
    finally:
        if stack._echo is not None:
            await stack._echo.disconnect()
        await fleet.stop()
        await broker.stop()
