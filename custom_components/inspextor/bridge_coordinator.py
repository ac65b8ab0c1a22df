"""The cloud bridge entry: poll the bridge's status, keep repair issues in step with it."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .bridge_api import BridgeAuthError, BridgeClient, BridgeError
from .bridge_repairs import async_update_issues
from .const import (
    BRIDGE_NAME,
    BRIDGE_SCAN_INTERVAL,
    CONF_EXPOSED_ENTITIES,
    DOMAIN,
    LOGGER,
    MANUFACTURER,
)

type BridgeConfigEntry = ConfigEntry[BridgeCoordinator]


def bridge_id(status: dict[str, Any]) -> str:
    """The bridge's identity: unique id of its entry and of its device."""
    return f"bridge:{status['contract_id']}:{status['instance_id']}"


class BridgeCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """Polls GET /api/status every 15 s; the data is the status document."""

    config_entry: BridgeConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BridgeConfigEntry, client: BridgeClient) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=BRIDGE_NAME,
            update_interval=BRIDGE_SCAN_INTERVAL,
        )
        self.client = client
        # Known once the first status arrived; the entry's unique id says the same.
        self.identifier = entry.unique_id or ""
        # Set by the entry's setup once it pushed the options' allow-list; from then on
        # every poll puts it back if the bridge's differs.
        self.keep_exposure = False
        # The options flow's new list, from its PUT until the options are saved: a poll in
        # between must not put the old list back.
        self.chosen_exposure: list[str] | None = None

    async def _async_update_data(self) -> dict[str, Any]:
        try:
            status = await self.client.status()
        except BridgeAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="bridge_invalid_auth"
            ) from err
        except BridgeError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="bridge_unreachable",
                translation_placeholders={"reason": str(err)},
            ) from err
        self.identifier = bridge_id(status)
        if self.keep_exposure:
            await self._restore_exposure()
        async_update_issues(self.hass, self.config_entry, status)
        self._update_sw_version(status.get("version"))
        return status

    async def _restore_exposure(self) -> None:
        """HA's options are the allow-list: put them back on a bridge that lost them (its
        data restored from an older backup, or wiped), so the cloud controls no more and
        no less than the user chose."""
        wanted = self._wanted_exposure()
        try:
            current = await self.client.exposure()
            if set(current) == set(wanted):
                return
            LOGGER.warning(
                "The bridge's exposure (%d entities) differed from the %d chosen in Home "
                "Assistant; it is put back",
                len(current),
                len(wanted),
            )
            await self.client.set_exposure(wanted)
        except BridgeError as err:
            LOGGER.debug("Could not check the bridge's exposure: %s", err)

    def _wanted_exposure(self) -> list[str]:
        saved = list(self.config_entry.options.get(CONF_EXPOSED_ENTITIES, []))
        if self.chosen_exposure is None:
            return saved
        if set(self.chosen_exposure) == set(saved):
            self.chosen_exposure = None  # the options caught up
            return saved
        return self.chosen_exposure

    def _update_sw_version(self, version: Any) -> None:
        """The add-on was upgraded: the device shows the new version."""
        devices = dr.async_get(self.hass)
        own = dr.async_entries_for_config_entry(devices, self.config_entry.entry_id)
        device = next((d for d in own if (DOMAIN, self.identifier) in d.identifiers), None)
        if device is not None and version is not None and device.sw_version != str(version):
            devices.async_update_device(device.id, sw_version=str(version))

    @property
    def device_info(self) -> DeviceInfo:
        """The bridge's device."""
        version = (self.data or {}).get("version")
        return DeviceInfo(
            identifiers={(DOMAIN, self.identifier)},
            manufacturer=MANUFACTURER,
            model="Cloud bridge",
            name=BRIDGE_NAME,
            sw_version=str(version) if version is not None else None,
        )

    async def async_action(self, name: str) -> dict[str, Any]:
        """Run a bridge action; a failure raises a translated error with the bridge's reason."""
        try:
            outcome = await self.client.action(name)
        except BridgeError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="bridge_action_failed",
                translation_placeholders={"action": name, "reason": str(err)},
            ) from err
        finally:
            await self.async_request_refresh()
        return outcome
