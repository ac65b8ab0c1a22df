"""The certificate rotation as a sans-IO state machine (no I/O, no clock, no randomness).

Steps, each persisted before the next starts, so a bridge killed at any point resumes:

    IDLE --make key--> KEY_MADE --CSR answered--> CERT_ISSUED --trial ping answered-->
    SWITCHED (the new certificate is the active one) --old one reported--> IDLE

Before SWITCHED the old certificate is the active one and stays so on any failure: the
pending files are dropped and the rotation is retried after a backoff. After SWITCHED only
the report of the old certificate is left; it is retried until the cloud acknowledges it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

DEFAULT_MARGIN_DAYS = 30
DEFAULT_JITTER_S = 86_400.0  # up to a day, so a fleet does not rotate at once
BACKOFF_MIN_S = 30.0
BACKOFF_MAX_S = 6 * 3600.0


class Step(StrEnum):
    """Where a rotation stands (the durable part)."""

    IDLE = "idle"
    KEY_MADE = "key_made"
    CERT_ISSUED = "cert_issued"
    SWITCHED = "switched"


class Action(StrEnum):
    """What the driver must do next."""

    NOTHING = "nothing"
    WAIT = "wait"  # a failure is backing off
    MAKE_KEY = "make_key"
    REQUEST_CERTIFICATE = "request_certificate"
    TRIAL = "trial"
    REPORT_OLD = "report_old"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the last attempt failed, for the log, the status and the repair."""

    step: str
    code: str
    message: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"step": self.step, "code": self.code, "message": self.message, "at": self.at}


@dataclass(frozen=True, slots=True)
class Rotation:
    """The durable rotation record. Files are names inside the identity folder."""

    step: Step = Step.IDLE
    requested: bool = False  # on demand: rotate even when not due
    key_file: str | None = None
    cert_file: str | None = None
    cert_id: str | None = None
    old_cert_id: str | None = None
    old_files: tuple[str, ...] = field(default_factory=tuple)
    attempts: int = 0
    retry_at: float | None = None
    last_error: Failure | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "step": self.step.value,
            "requested": self.requested,
            "key_file": self.key_file,
            "cert_file": self.cert_file,
            "cert_id": self.cert_id,
            "old_cert_id": self.old_cert_id,
            "old_files": list(self.old_files),
            "attempts": self.attempts,
            "retry_at": self.retry_at,
            "last_error": self.last_error.as_dict() if self.last_error else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rotation:
        """Read the JSON form (unknown or missing keys fall back to defaults)."""
        error = data.get("last_error")
        return cls(
            step=Step(data.get("step", Step.IDLE)),
            requested=bool(data.get("requested", False)),
            key_file=data.get("key_file"),
            cert_file=data.get("cert_file"),
            cert_id=data.get("cert_id"),
            old_cert_id=data.get("old_cert_id"),
            old_files=tuple(data.get("old_files", ())),
            attempts=int(data.get("attempts", 0)),
            retry_at=data.get("retry_at"),
            last_error=Failure(**error) if isinstance(error, dict) else None,
        )


def rotation_due(
    not_after: datetime,
    now: datetime,
    *,
    margin: timedelta = timedelta(days=DEFAULT_MARGIN_DAYS),
    jitter: float = 0.0,
) -> bool:
    """True when less than `margin` (brought forward by `jitter` seconds) is left."""
    return not_after - now < margin + timedelta(seconds=jitter)


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failure in a row (doubling, capped)."""
    return float(min(BACKOFF_MIN_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


def next_action(rotation: Rotation, *, due: bool, now: float) -> Action:
    """The next thing to do for this rotation record."""
    if rotation.retry_at is not None and now < rotation.retry_at:
        return Action.WAIT
    match rotation.step:
        case Step.KEY_MADE:
            return Action.REQUEST_CERTIFICATE
        case Step.CERT_ISSUED:
            return Action.TRIAL
        case Step.SWITCHED:
            return Action.REPORT_OLD
        case _:
            return Action.MAKE_KEY if due or rotation.requested else Action.NOTHING


def request(rotation: Rotation) -> Rotation:
    """Rotate now (button, API, CLI): a backoff in progress is cut short."""
    return replace(rotation, requested=True, retry_at=None)


def key_made(rotation: Rotation, key_file: str) -> Rotation:
    """The new key is on disk."""
    return replace(rotation, step=Step.KEY_MADE, key_file=key_file)


def certificate_issued(rotation: Rotation, cert_id: str, cert_file: str) -> Rotation:
    """The cloud signed the CSR (and registered the certificate); it is on disk."""
    return replace(rotation, step=Step.CERT_ISSUED, cert_id=cert_id, cert_file=cert_file)


def switched(rotation: Rotation, old_cert_id: str, old_files: tuple[str, ...]) -> Rotation:
    """The trial answered: the new certificate is the active one from now on."""
    return replace(
        rotation,
        step=Step.SWITCHED,
        old_cert_id=old_cert_id,
        old_files=old_files,
        key_file=None,
        cert_file=None,
    )


def reported(_rotation: Rotation) -> Rotation:
    """The cloud acknowledged the old certificate's report: the rotation is complete."""
    return Rotation()


def failed(rotation: Rotation, failure: Failure) -> Rotation:
    """A step failed. Before the switch: back to IDLE on the old certificate, retry later."""
    attempts = rotation.attempts + 1
    retry_at = failure.at + backoff(attempts)
    if rotation.step is Step.SWITCHED:
        return replace(rotation, attempts=attempts, retry_at=retry_at, last_error=failure)
    return Rotation(
        requested=rotation.requested, attempts=attempts, retry_at=retry_at, last_error=failure
    )


def discarded_files(rotation: Rotation) -> tuple[str, ...]:
    """The pending files a failure before the switch leaves behind (to delete)."""
    if rotation.step is Step.SWITCHED:
        return ()
    return tuple(name for name in (rotation.key_file, rotation.cert_file) if name)
