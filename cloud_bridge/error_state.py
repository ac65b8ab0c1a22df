"""One error per part of the bridge (storage, cloud, Home Assistant, activation, identity,
store channel).

A part's error stays until that part reports it is well again, so a problem of one part
never hides another's: `/api/status` shows every part's error and, as `last_error`, the
most severe one. Parts rank in `Part` order: storage first (a full disk drops readings, a
read-only folder holds everything in memory only), then the cloud (nothing reaches it),
then Home Assistant (nothing to sync or command), then activation, the certificate, and
last the store channel (its object store refuses us: command files wait, MQTT still works).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cloud_bridge.clock import SYSTEM_CLOCK, Clock


class Part(StrEnum):
    """A part of the bridge that can fail, most severe first."""

    STORAGE = "storage"
    CLOUD = "cloud"
    HA = "ha"
    ACTIVATION = "activation"
    IDENTITY = "identity"  # certificate rotation
    STORE_CHANNEL = "store_channel"  # its object store refuses our credentials


@dataclass(frozen=True, slots=True)
class PartError:
    """A part's current problem: a machine-readable code, a sentence, when it was seen."""

    part: Part
    code: str
    reason: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        """JSON for the status document (`part` is the key it is filed under)."""
        return {"code": self.code, "reason": self.reason, "at": self.at}


class ErrorState:
    """The current error of each part, stamped with the injected clock."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self._errors: dict[Part, PartError] = {}

    def report(self, part: Part, code: str, reason: str) -> None:
        """`part` failed: replaces that part's previous error."""
        self._errors[part] = PartError(part, code, reason, self._clock())

    def clear(self, part: Part, codes: Collection[str] | None = None) -> None:
        """`part` is well again (only when its error has one of `codes`, if given)."""
        error = self._errors.get(part)
        if error is not None and (codes is None or error.code in codes):
            del self._errors[part]

    def get(self, part: Part) -> PartError | None:
        """The part's current error, or None."""
        return self._errors.get(part)

    @property
    def most_severe(self) -> PartError | None:
        """The error of the first failing part in `Part` order, or None when all are well."""
        return next((self._errors[p] for p in Part if p in self._errors), None)

    def as_dict(self) -> dict[str, dict[str, Any] | None]:
        """Every part, with its error or None (the status document's `errors`)."""
        return {
            part.value: error.as_dict() if (error := self._errors.get(part)) else None
            for part in Part
        }
