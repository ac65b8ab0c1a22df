"""Child processes that always go away: each runs in its own process group."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import signal
import sys

import aiohttp

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class ManagedProcess:
    """A child process started with `python -m <module> <args>` or any argv."""

    name: str
    argv: list[str]
    log_file: Path
    env: dict[str, str] = field(default_factory=dict)
    process: asyncio.subprocess.Process | None = None

    @classmethod
    def python_module(
        cls, name: str, module: str, args: list[str], log_file: Path, env: dict[str, str] | None
    ) -> ManagedProcess:
        """A `python -m module args` child run by this interpreter."""
        return cls(name, [sys.executable, "-m", module, *args], log_file, env or {})

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """True while the child has not exited."""
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start the child; its output goes to `log_file`."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_file.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        _LOGGER.info("%s started (pid %d), log: %s", self.name, self.process.pid, self.log_file)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the child's whole process group (no wait)."""
        if self.running:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the group, then SIGKILL it after `timeout`."""
        if not self.running:
            return
        assert self.process is not None
        self.kill(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            _LOGGER.warning("%s did not stop within %.0fs, killing it", self.name, timeout)
            self.kill(signal.SIGKILL)
            await self.process.wait()
        # Anything the child left in its group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    async def wait_http(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        error: type[Exception] = RuntimeError,
    ) -> None:
        """Wait until `url` answers (any status below 500); raise `error` with this child's
        log if it exits first, or when `timeout` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                if not self.running:
                    raise error(
                        f"{self.name} exited during start; see {self.log_file}:\n{self.tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(
                        url, headers=headers or {}, timeout=aiohttp.ClientTimeout(total=2)
                    ) as resp:
                        if resp.status < 500:
                            return
                await asyncio.sleep(0.2)
        raise error(f"{self.name} did not answer on {url} within {timeout:.0f}s")

    def tail(self, lines: int = 30) -> str:
        """The last lines of the child's log, for error messages."""
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
