"""A clock tests step by hand (the bridge reads it wherever it decides by time)."""

from __future__ import annotations

import time


class SteppedClock:
    """Wall-clock seconds that move only when a test calls `step`."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def step(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds
