"""Socket tuning shared by every MQTT client we run."""

from __future__ import annotations

import contextlib
import socket
from typing import Any


def disable_nagle(sock: Any) -> None:
    """Send small MQTT packets at once (TCP_NODELAY).

    A QoS 1 exchange writes a PUBACK and then a PUBLISH as two small segments; with
    Nagle's algorithm on, the second waits for the peer's delayed ACK, about 40 ms per hop
    (measured in docs/benchmarks.md, row 1f). Sockets that are not TCP are left alone.
    """
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
