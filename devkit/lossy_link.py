"""A lossy UDP link for tests: drops, duplicates, reorders and delays datagrams.

One `LossyLink` stands between Home Assistant and one controller: it listens at the
address HA's site file gives for the controller, forwards HA's datagrams to the real
controller from the same socket, and the controller's to HA. So each side sees the
other at the link's address, as if the wire were lossy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import random
from typing import Any


@dataclass(frozen=True, slots=True)
class Faults:
    """Rates (0-1) of each fault; delays in seconds."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    reorder_delay: float = 0.03


@dataclass(slots=True)
class LinkStats:
    """What the link did."""

    forwarded: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    bytes: int = 0


class LossyLink(asyncio.DatagramProtocol):
    """One socket between `ha` and `controller`."""

    def __init__(
        self,
        ha: tuple[str, int],
        controller: tuple[str, int],
        faults: Faults,
        *,
        seed: int | None = None,
    ) -> None:
        self.ha = ha
        self.controller = controller
        self.faults = faults
        self.stats = LinkStats()
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._transport: asyncio.DatagramTransport | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Bound."""
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        """Forward with faults: from the controller to HA, from anyone else to the controller."""
        source = (str(addr[0]), int(addr[1]))
        target = self.ha if source == self.controller else self.controller
        faults, rng = self.faults, self._rng
        if rng.random() < faults.loss:
            self.stats.dropped += 1
            return
        copies = 2 if rng.random() < faults.duplicate else 1
        self.stats.duplicated += copies - 1
        for _ in range(copies):
            delay = faults.delay
            if rng.random() < faults.reorder:
                delay += faults.reorder_delay * (1 + rng.random())
                self.stats.reordered += 1
            if delay > 0:
                self._loop.call_later(delay, self._forward, data, target)
            else:
                self._forward(data, target)

    def _forward(self, data: bytes, target: tuple[str, int]) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self.stats.forwarded += 1
        self.stats.bytes += len(data)
        self._transport.sendto(data, target)

    @property
    def address(self) -> tuple[str, int]:
        """Where the link listens."""
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def close(self) -> None:
        """Stop forwarding."""
        if self._transport is not None:
            self._transport.close()


async def open_link(
    listen: tuple[str, int],
    ha: tuple[str, int],
    controller: tuple[str, int],
    faults: Faults,
    *,
    seed: int | None = None,
) -> LossyLink:
    """A link listening at `listen` (port 0: any free one; see `LossyLink.address`)."""
    loop = asyncio.get_running_loop()
    _, link = await loop.create_datagram_endpoint(
        lambda: LossyLink(ha, controller, faults, seed=seed), local_addr=listen
    )
    return link
