"""A real S3-compatible server for tests: moto's server mode (`moto_server`, installed in
.venv-tools by scripts/bootstrap.sh) on a free loopback port, as its own process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from cloud_bridge.store_channel.s3 import S3Store
from cloud_bridge.store_channel.sigv4 import Credentials
from tests.helpers.mosquitto import free_port

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "AKIATESTSTORE0001"
SECRET_KEY = "store-secret-canary-9d1f"
CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY)
BUCKET = "inspextor-home"
REGION = "eu-west-1"


def moto_server_path() -> str | None:
    """The moto_server program: the tools venv's, or one on PATH."""
    local = ROOT / ".venv-tools" / "bin" / "moto_server"
    return str(local) if local.exists() else shutil.which("moto_server")


@dataclass
class S3Server:
    """A running server; `endpoint` is host:port as S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT."""

    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def store(self, prefix: str, endpoint: str | None = None) -> S3Store:
        """A backend on this server's bucket (or through `endpoint`, e.g. a proxy)."""
        return S3Store(
            bucket=BUCKET,
            region=REGION,
            prefix=prefix,
            credentials=CREDENTIALS,
            endpoint=endpoint or self.endpoint,
            scheme="http",
        )


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not answer in time")


def _create_bucket(server: S3Server) -> None:
    async def create() -> None:
        store = server.store("")
        try:
            await store.create_bucket()
        finally:
            await store.close()

    # in a thread of its own: the caller may be inside a running event loop
    worker = threading.Thread(target=asyncio.run, args=(create(),))
    worker.start()
    worker.join()


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    """Start moto_server, create the bucket, stop the server afterwards."""
    program = moto_server_path()
    if program is None:
        pytest.skip("moto_server is not installed (scripts/bootstrap.sh installs it)")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [program, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        _wait_ready(port, process)
        server = S3Server("127.0.0.1", port, process)
        _create_bucket(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
