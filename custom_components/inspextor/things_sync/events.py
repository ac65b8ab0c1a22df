"""What the protocol core tells its host (the HA site, a test, a benchmark)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The owner reported a thing's value."""

    controller: str
    thing: str
    value: Any


@dataclass(frozen=True, slots=True)
class Availability:
    """A controller started or stopped answering."""

    controller: str
    available: bool


@dataclass(frozen=True, slots=True)
class PulseReceived:
    """A controller fired a pulse at Home Assistant."""

    controller: str
    thing: str


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of a request: answered (`ok`, with `value`) or `expired`."""

    token: int
    ok: bool
    value: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """A datagram or message was refused; `first` for the first of its kind and source."""

    source: str
    error_id: str
    detail: str
    first: bool


type Event = StateChanged | Availability | PulseReceived | Result | ProtocolError
