"""The few places where HA 2025.4 (our floor) and HA 2026.x need different spellings.

Each picks the newer API where it exists; the older one is used only on the versions
that have nothing else. tests/components/inspextor/test_compat.py keeps the deprecated
names out of every other module.
"""

from __future__ import annotations

from typing import Any

from homeassistant import const
from homeassistant.helpers.device_registry import DeviceInfo

# HA 2026 adds UnitOfDensity and deprecates CONCENTRATION_MICROGRAMS_PER_CUBIC_METER
# (removal 2027.8); HA 2025.4 has only the constant.
_DENSITY: Any = getattr(const, "UnitOfDensity", None)
MICROGRAMS_PER_CUBIC_METER: str = (
    _DENSITY.MICROGRAMS_PER_CUBIC_METER
    if _DENSITY is not None
    else const.CONCENTRATION_MICROGRAMS_PER_CUBIC_METER
)

# HA 2026 links a device to its parent by device id (`via_device` is deprecated, removal
# 2027.8); HA 2025.4 knows only the parent's identifier.
HAS_VIA_DEVICE_ID = "via_device_id" in DeviceInfo.__optional_keys__


def set_via_device(info: DeviceInfo, parent: tuple[str, str], parent_id: str | None) -> None:
    """Link `info` to its parent device: by id where HA has it, else by identifier."""
    if HAS_VIA_DEVICE_ID and parent_id is not None:
        info_any: dict[str, Any] = info  # type: ignore[assignment]  # key is 2026-only
        info_any["via_device_id"] = parent_id
    else:
        info["via_device"] = parent
