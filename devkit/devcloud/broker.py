"""Pick a local MQTT broker for the demo: Mosquitto when installed, else embedded amqtt."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
from pathlib import Path
import shutil
import tempfile
from typing import Any

_LOGGER = logging.getLogger(__name__)


def find_mosquitto() -> str | None:
    """The mosquitto binary, or None."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if Path(p).exists()), None
    )


@dataclass
class LocalBroker:
    """A running broker: `kind` is "mosquitto" or "amqtt"."""

    kind: str
    host: str
    port: int
    _process: asyncio.subprocess.Process | None = None
    _amqtt: Any = None
    _workdir: Path | None = field(default=None, repr=False)

    async def stop(self) -> None:
        """Stop the broker."""
        if self._process is not None:
            await stop_process(self._process)
        if self._amqtt is not None:
            await self._amqtt.shutdown()
        if self._workdir is not None:
            await asyncio.to_thread(shutil.rmtree, self._workdir, True)


async def spawn_mosquitto(binary: str, conf: Path) -> asyncio.subprocess.Process:
    """Mosquitto with this configuration file, its output discarded (it logs to a file)."""
    return await asyncio.create_subprocess_exec(
        binary,
        "-c",
        str(conf),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, and SIGKILL after 5 s."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _wait_listening(
    host: str,
    port: int,
    process: asyncio.subprocess.Process | None = None,
    timeout: float = 10.0,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if process is not None and process.returncode is not None:
            raise OSError(f"mosquitto exited with code {process.returncode}")
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


async def start_mosquitto(
    binary: str, host: str, port: int, *, nodelay: bool = True
) -> LocalBroker:
    """Run Mosquitto on host:port with a throwaway config.

    `nodelay` (set_tcp_nodelay): the broker forwards small packets at once (see
    transport/sockets.py); off only to show what Mosquitto's default costs (bench 1f).
    """
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="inx-mosq-"))
    conf = workdir / "mosquitto.conf"
    text = f"listener {port} {host}\nallow_anonymous true\npersistence false\n"
    if nodelay:
        text += "set_tcp_nodelay true\n"
    await asyncio.to_thread(conf.write_text, text)
    process = await spawn_mosquitto(binary, conf)
    broker = LocalBroker("mosquitto", host, port, _process=process, _workdir=workdir)
    try:
        await _wait_listening(host, port, process)
    except OSError:
        await broker.stop()
        raise
    return broker


async def start_amqtt(host: str, port: int) -> LocalBroker:
    """Run the pure-Python amqtt broker inside this process."""
    from amqtt.broker import Broker  # noqa: PLC0415 - optional: only when no Mosquitto

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    await broker.start()
    await _wait_listening(host, port)
    return LocalBroker("amqtt", host, port, _amqtt=broker)


async def start_local_broker(
    host: str = "127.0.0.1", port: int = 1883, prefer: str | None = None
) -> LocalBroker:
    """Mosquitto when installed (or `prefer="mosquitto"`), otherwise embedded amqtt."""
    binary = find_mosquitto() if prefer in (None, "mosquitto") else None
    if binary is not None:
        broker = await start_mosquitto(binary, host, port)
    else:
        broker = await start_amqtt(host, port)
    _LOGGER.info("local broker: %s on %s:%d", broker.kind, host, port)
    return broker
