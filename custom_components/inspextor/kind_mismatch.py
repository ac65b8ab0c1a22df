"""Mapped devices that announce another kind than the site map gives them: a repair.

The site map is the installer's word and wins (docs/protocol.md, "Site map"): a mapped
device keeps the map's kind and entities whatever it announces. When the two disagree
(the device was re-flashed, or the map has a typo) the site says so: a warning in the log
naming the device and both kinds, and one repair issue per site listing every such device.
The issue goes away once the announcement and the map agree again (the map is edited, the
device is re-flashed back, or its announcement is cleared).
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, LOGGER
from .sitemap import DeviceSpec, Kind

ISSUE_KIND_MISMATCH = "kind_mismatch"


def mismatch_issue_id(entry_id: str) -> str:
    """One issue per site."""
    return f"{ISSUE_KIND_MISMATCH}_{entry_id}"


class KindMismatches:
    """The mapped devices whose announced kind differs from the map's."""

    def __init__(self, hass: HomeAssistant, entry_id: str, base: str) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.base = base
        self.found: dict[str, tuple[DeviceSpec, Kind]] = {}  # path -> (mapped, announced)

    @callback
    def announced(self, mapped: DeviceSpec, announced: DeviceSpec | None) -> None:
        """A mapped device announced itself (None: its announcement was cleared)."""
        path = mapped.path
        if announced is None or announced.kind == mapped.kind:
            if self.found.pop(path, None) is not None:
                LOGGER.info("Device %s/%s now agrees with the site map", self.base, path)
                self._update_issue()
            return
        previous = self.found.get(path)
        self.found[path] = (mapped, announced.kind)
        if previous is None or previous[1] != announced.kind:
            LOGGER.warning(
                "Device %s/%s (%s) announces itself as %s, but the site map says %s; "
                "it keeps the site map's kind: edit the site map if the device changed",
                self.base,
                path,
                mapped.name,
                announced.kind,
                mapped.kind,
            )
            self._update_issue()

    @callback
    def async_clear(self) -> None:
        """The site stops: its issue goes (the next start raises it again if needed)."""
        self.found.clear()
        ir.async_delete_issue(self.hass, DOMAIN, mismatch_issue_id(self.entry_id))

    def _update_issue(self) -> None:
        issue = mismatch_issue_id(self.entry_id)
        if not self.found:
            ir.async_delete_issue(self.hass, DOMAIN, issue)
            return
        devices = "; ".join(
            f"{mapped.name} ({path}): the site map says {mapped.kind}, the device announces {kind}"
            for path, (mapped, kind) in sorted(self.found.items())
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_KIND_MISMATCH,
            translation_placeholders={
                "site": self.base,
                "count": str(len(self.found)),
                "devices": devices,
            },
        )
