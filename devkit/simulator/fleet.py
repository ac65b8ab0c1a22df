"""A fleet of simulated devices in one process, on one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets

from .device import SimConfig, SimDevice
from .site_file import SimDeviceSpec

_LOGGER = logging.getLogger(__name__)


class Fleet:
    """Many simulated devices, each with its own MQTT connection, started together."""

    def __init__(
        self,
        specs: list[SimDeviceSpec],
        host: str,
        port: int,
        *,
        base: str = "inspextor",
        config: SimConfig | None = None,
        seed: int | None = None,
        connect_concurrency: int = 64,
    ) -> None:
        self.host = host
        self.port = port
        self.base = base
        self.config = config or SimConfig()
        self._rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self._concurrency = connect_concurrency
        token = secrets.token_hex(3)
        self.devices: dict[str, SimDevice] = {
            spec.path: SimDevice(
                spec,
                base,
                self.config,
                random.Random(self._rng.getrandbits(32)),  # noqa: S311 - simulation
                f"inxsim-{token}-{spec.path}",
            )
            for spec in specs
        }

    def __len__(self) -> int:
        return len(self.devices)

    def __getitem__(self, path: str) -> SimDevice:
        return self.devices[path]

    async def start(self) -> None:
        """Connect every device (bounded concurrency); raises if any cannot connect."""
        gate = asyncio.Semaphore(self._concurrency)

        async def start_one(device: SimDevice) -> None:
            async with gate:
                await device.start(self.host, self.port)

        results = await asyncio.gather(
            *(start_one(d) for d in self.devices.values()), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.stop()
            raise ConnectionError(
                f"{len(failures)} of {len(results)} devices could not connect to "
                f"{self.host}:{self.port}: {failures[0]!r}"
            )
        _LOGGER.info(
            "%d simulated devices online on %s:%d under %s/",
            len(self.devices),
            self.host,
            self.port,
            self.base,
        )

    async def stop(self) -> None:
        """Take every device offline cleanly."""
        await asyncio.gather(*(d.stop() for d in self.devices.values()), return_exceptions=True)

    async def flood(self, rate_per_s: float, duration: float) -> int:
        """Publish status changes at `rate_per_s` across the fleet; returns how many."""
        devices = list(self.devices.values())
        if not devices or rate_per_s <= 0:
            return 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        tick = 0.01
        while True:
            # The last round catches up: a loop stalled near the end (a loaded host) still
            # sends rate x duration changes, only later than due.
            elapsed = min(loop.time() - start, duration)
            due = int(elapsed * rate_per_s) - sent
            for _ in range(due):
                devices[sent % len(devices)].random_change()
                sent += 1
            if elapsed >= duration:
                return sent
            await asyncio.sleep(tick)
