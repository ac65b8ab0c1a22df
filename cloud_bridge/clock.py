"""The one clock of the bridge: every time-based decision reads an injected `Clock`.

A clock is a callable returning wall-clock seconds since the epoch, like `time.time`
(command TTLs and `iat` are wall-clock times set by the cloud). The real bridge uses
`SYSTEM_CLOCK`; tests pass their own callable and step it instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
import time

type Clock = Callable[[], float]

SYSTEM_CLOCK: Clock = time.time
