"""Small statistics helpers: percentiles and rates."""

from __future__ import annotations

from collections.abc import Sequence
import math


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct` percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(ours: float, baseline: float) -> float:
    """ours / baseline, NaN when the baseline is zero or missing."""
    if not baseline or math.isnan(baseline) or math.isnan(ours):
        return math.nan
    return ours / baseline
