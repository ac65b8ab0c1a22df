"""Announced devices unavailable for days: a repair that names them, to remove or keep.

A device that announced itself and then went away (its last will said `offline`) would
otherwise stay in the device list, on the Overview and in the exposure list forever. Since
when each device is offline is stored, so a restart does not restart the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .site import InspextorSite, SiteConfigEntry

STALE_AFTER = timedelta(days=7)
CHECK_INTERVAL = timedelta(hours=1)
# After a start the retained announcements and availabilities arrive first.
FIRST_CHECK_DELAY = 60.0
ISSUE_STALE_DEVICES = "stale_devices"
STORE_VERSION = 1


def stale_issue_id(entry_id: str) -> str:
    """One issue per site."""
    return f"{ISSUE_STALE_DEVICES}_{entry_id}"


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, dict[str, str]]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.offline_{entry_id}")


@callback
def forget_site(hass: HomeAssistant, entry: SiteConfigEntry) -> None:
    """The site was deleted: its repair issue and its stored times go with it."""
    ir.async_delete_issue(hass, DOMAIN, stale_issue_id(entry.entry_id))
    hass.async_create_task(_store(hass, entry.entry_id).async_remove())


class StaleDevices:
    """Since when each device is offline; raises and clears the site's repair issue."""

    def __init__(self, hass: HomeAssistant, entry: SiteConfigEntry, site: InspextorSite):
        self.hass = hass
        self.entry = entry
        self.site = site
        self.offline_since: dict[str, str] = {}
        self.kept: dict[str, str] = {}  # path -> the offline_since the user chose to keep
        self._store = _store(hass, entry.entry_id)

    async def async_start(self) -> None:
        """Load the stored times, follow availability, check hourly."""
        data = await self._store.async_load() or {}
        self.offline_since = dict(data.get("offline_since", {}))
        self.kept = dict(data.get("kept", {}))
        self.site.availability_listeners.append(self._availability)
        entry = self.entry
        entry.async_on_unload(lambda: self.site.availability_listeners.remove(self._availability))
        entry.async_on_unload(async_track_time_interval(self.hass, self.check, CHECK_INTERVAL))
        entry.async_on_unload(async_call_later(self.hass, FIRST_CHECK_DELAY, self.check))
        # Written at once on unload: a reload reads it back with a new Store.
        entry.async_on_unload(lambda: self._store.async_save(self._data()))

    def _data(self) -> dict[str, dict[str, str]]:
        return {"offline_since": self.offline_since, "kept": self.kept}

    def _save(self) -> None:
        self._store.async_delay_save(self._data, 1.0)

    @callback
    def _availability(self, path: str, online: bool) -> None:
        if online:
            if self.offline_since.pop(path, None) is None:
                return
            self.kept.pop(path, None)
        elif path in self.offline_since:
            return  # still the same absence (a retained `offline` again after a restart)
        else:
            self.offline_since[path] = dt_util.utcnow().isoformat()
        self._save()
        self.check()

    def stale(self) -> list[tuple[str, str, datetime]]:
        """(path, name, offline since) of announced devices away for STALE_AFTER, by name."""
        now = dt_util.utcnow()
        found = []
        for path, since in self.offline_since.items():
            spec = self.site.announced.get(path)
            when = dt_util.parse_datetime(since)
            if spec is None or path in self.site.site_map.devices or self.kept.get(path) == since:
                continue
            if when is not None and now - when >= STALE_AFTER:
                found.append((path, spec.name, when))
        return sorted(found, key=lambda item: (item[1].casefold(), item[0]))

    @callback
    def check(self, _now: Any = None) -> None:
        """Raise the issue naming every stale device, or delete it when there is none."""
        issue = stale_issue_id(self.entry.entry_id)
        if not (stale := self.stale()):
            ir.async_delete_issue(self.hass, DOMAIN, issue)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue,
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_STALE_DEVICES,
            translation_placeholders=self.placeholders(stale),
            data={"entry_id": self.entry.entry_id},
        )

    def placeholders(self, stale: list[tuple[str, str, datetime]]) -> dict[str, str]:
        """The site, how many, and each device with the day it went offline."""
        devices = "; ".join(
            f"{name} ({path}, unavailable since {when.date().isoformat()})"
            for path, name, when in stale
        )
        return {
            "site": self.entry.title,
            "count": str(len(stale)),
            "days": str(STALE_AFTER.days),
            "devices": devices,
        }

    async def async_remove(self) -> None:
        """Clear the stale devices' retained topics and remove them from the registry."""
        paths = {path for path, _name, _when in self.stale()}
        for path in sorted(paths):
            for level in ("announce", "availability"):
                await mqtt.async_publish(
                    self.hass, f"{self.site.base}/{path}/{level}", "", qos=1, retain=True
                )
            self.offline_since.pop(path, None)
            self.site.announced.pop(path, None)
        identifiers = {(DOMAIN, f"{self.site.base}:{path}") for path in paths}
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.entry.entry_id):
            if device.identifiers & identifiers:
                registry.async_update_device(device.id, remove_config_entry_id=self.entry.entry_id)
        self._save()
        self.check()

    def keep(self) -> None:
        """Keep them: no issue for these absences (a new one after they come back and go)."""
        for path, _name, _when in self.stale():
            self.kept[path] = self.offline_since[path]
        self._save()
        self.check()
