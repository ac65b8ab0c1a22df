"""Message ids: sender boot id + sequence, and the receiver's de-duplication window.

A message id is `"<boot>:<seq>"`: `boot` is random per process start, `seq` counts up
modulo `modulus` (2**32 on the wire). The receiver keeps, per sender and boot, the
highest sequence seen and which of the `window` before it were seen, comparing in serial
number arithmetic (RFC 1982) so a wrap is just a step forward. A restart gives a new boot,
hence a fresh window, so nothing from the new life is taken for a repeat of the old one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
import secrets

SEQ_MODULUS = 2**32
DEFAULT_WINDOW = 4096
BOOTS_KEPT = 4


def new_boot_id() -> str:
    """Eight hex digits, fresh for every process start."""
    return secrets.token_hex(4)


class MessageIds:
    """The sender's side: one boot id, a wrapping sequence."""

    def __init__(self, boot: str | None = None, start: int = 0, modulus: int = SEQ_MODULUS):
        self.boot = boot or new_boot_id()
        self.modulus = modulus
        self._seq = start % modulus

    def next(self) -> str:
        """The next message id."""
        self._seq = (self._seq + 1) % self.modulus
        return f"{self.boot}:{self._seq}"


def parse_mid(mid: object, modulus: int = SEQ_MODULUS) -> tuple[str, int] | None:
    """(boot, seq) of a well-formed id, else None."""
    if not isinstance(mid, str):
        return None
    boot, sep, seq = mid.partition(":")
    if not sep or not boot or len(boot) > 16 or not seq.isdigit():
        return None
    number = int(seq)
    return (boot, number) if number < modulus else None


@dataclass(slots=True)
class _BootWindow:
    highest: int
    seen: set[int] = field(default_factory=set)


class DedupWindow:
    """Per sender: has this message id been seen? Bounded memory, wrap-safe."""

    def __init__(self, window: int = DEFAULT_WINDOW, modulus: int = SEQ_MODULUS) -> None:
        if not 0 < window < modulus // 2:
            raise ValueError("window must be below half the sequence space")
        self.window = window
        self.modulus = modulus
        self._boots: OrderedDict[str, _BootWindow] = OrderedDict()

    def _distance(self, seq: int, highest: int) -> int:
        """Signed serial distance seq - highest."""
        diff = (seq - highest) % self.modulus
        return diff - self.modulus if diff >= self.modulus // 2 else diff

    def check(self, boot: str, seq: int) -> bool:
        """True for a new message (and remember it), False for a repeat or a stale one."""
        state = self._boots.get(boot)
        if state is None:
            self._boots[boot] = _BootWindow(seq, {seq})
            while len(self._boots) > BOOTS_KEPT:
                self._boots.popitem(last=False)
            return True
        self._boots.move_to_end(boot)
        distance = self._distance(seq, state.highest)
        if distance > 0:
            state.highest = seq
            state.seen.add(seq)
            if len(state.seen) > 2 * self.window:
                state.seen = {s for s in state.seen if -self.window < self._distance(s, seq) <= 0}
            return True
        if distance <= -self.window or seq in state.seen:
            return False
        state.seen.add(seq)
        return True

    def newer(self, boot: str, seq: int, than: tuple[str, int] | None) -> bool:
        """Is (boot, seq) later than `than` from the same sender? Another boot is later."""
        if than is None or than[0] != boot:
            return True
        return self._distance(seq, than[1]) > 0
