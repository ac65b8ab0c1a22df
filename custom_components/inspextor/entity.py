"""Base entity of a site's devices and the site's platform set-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    EntityPlatform,
    async_get_current_platform,
)
from homeassistant.util import slugify

from .compat import set_via_device
from .const import (
    ATTR_HELD_UNTIL,
    ATTR_PENDING,
    CONF_THRASH_HOLD,
    DOMAIN,
    MANUFACTURER,
    signal_kind_changed,
    signal_new_device,
)
from .site import InspextorSite, SiteConfigEntry
from .sitemap import DeviceSpec
from .thrash import GuardedCommand, async_get_guard

type EntityFactory = Callable[[InspextorSite, DeviceSpec], Iterable[Entity]]


def device_info(site: InspextorSite, spec: DeviceSpec) -> DeviceInfo:
    """Device registry entry of a device, below the site's hub device."""
    info = DeviceInfo(
        identifiers={(DOMAIN, f"{site.base}:{spec.path}")},
        manufacturer=MANUFACTURER,
        model=spec.model_name,
        name=spec.name,
    )
    set_via_device(info, (DOMAIN, site.base), site.hub_device_id)
    if spec.area:
        info["suggested_area"] = spec.area
    if spec.sw_version:
        info["sw_version"] = spec.sw_version
    return info


type SitePlatformSetup = Callable[
    [HomeAssistant, SiteConfigEntry, AddConfigEntryEntitiesCallback], None
]


def site_platform(factory: EntityFactory) -> SitePlatformSetup:
    """A site's platform set-up: entities of the known and of every announced device; an
    announced device of a new kind gets this platform's entities of that kind instead."""

    @callback
    def async_setup(
        hass: HomeAssistant,
        entry: SiteConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        site = entry.runtime_data
        platform = async_get_current_platform()
        replacing = asyncio.Lock()  # one kind change after the other
        async_add_entities(
            [entity for spec in list(site.devices.values()) for entity in factory(site, spec)]
        )

        @callback
        def _new_device(spec: DeviceSpec) -> None:
            if entities := list(factory(site, spec)):
                async_add_entities(entities)

        async def _replace(spec: DeviceSpec) -> None:
            async with replacing:
                current = site.devices.get(spec.path)
                if current is None or current.kind is not spec.kind:
                    return  # another kind was announced since: its own task replaces
                new = list(factory(site, current))
                await _async_remove_entities(platform, site, spec.path, new)
                if new:
                    await platform.async_add_entities(new)

        @callback
        def _kind_changed(spec: DeviceSpec) -> None:
            entry.async_create_task(hass, _replace(spec), f"{DOMAIN} replace {spec.path}")

        entry.async_on_unload(
            async_dispatcher_connect(hass, signal_new_device(entry.entry_id), _new_device)
        )
        entry.async_on_unload(
            async_dispatcher_connect(hass, signal_kind_changed(entry.entry_id), _kind_changed)
        )

    return async_setup


async def _async_remove_entities(
    platform: EntityPlatform, site: InspextorSite, path: str, new: list[Entity]
) -> None:
    """Remove the platform's entities of the device at `path` from HA, and from the
    entity registry those its new entities do not take over (same unique id): a dimmable
    light that became an RGBW light keeps its entity id and settings, a light that became
    a shade loses its light entity."""
    for entity in list(platform.entities.values()):
        if isinstance(entity, InspextorEntity) and entity.path == path:
            await entity.async_remove(force_remove=True)
    keep = {entity.unique_id for entity in new}
    registry = er.async_get(platform.hass)
    device = f"{site.base}:{path}"
    for entry in er.async_entries_for_config_entry(registry, site.entry_id):
        if (
            entry.domain == platform.domain
            and entry.unique_id.rpartition(":")[0] == device
            and entry.unique_id not in keep
        ):
            registry.async_remove(entry.entity_id)


class InspextorEntity(Entity):
    """An entity of one device; pushed by the site's in-memory dispatch."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    # Capabilities this entity writes to; their pending state is shown as an attribute.
    _commanded: tuple[str, ...] = ()

    def __init__(self, site: InspextorSite, spec: DeviceSpec, capability: str) -> None:
        self.site = site
        self.spec = spec
        self.path = spec.path
        self._capability = capability
        self._attr_unique_id = f"{site.base}:{spec.path}:{capability}"
        self._attr_device_info = device_info(site, spec)

    def add_to_platform_start(
        self,
        hass: HomeAssistant,
        platform: EntityPlatform,
        parallel_updates: asyncio.Semaphore | None,
    ) -> None:
        """Keep the area out of new entity ids when the device's name already starts with it.

        HA 2026 builds new ids from area, device and entity name: "Kitchen light" in
        area Kitchen would become `light.kitchen_kitchen_light`. Suggesting the id HA
        2025 gives (`light.kitchen_light`) keeps ids the same on both; other devices
        get HA's own ids. Ids already in the registry never change.
        """
        super().add_to_platform_start(hass, platform, parallel_updates)
        area, device = self.spec.area, self.spec.name
        suggested: str | None = self.entity_id  # None unless something set it
        if suggested is None and area and f"{device.casefold()} ".startswith(f"{area.casefold()} "):
            own = name if isinstance(name := self.name, str) else None  # None: the device's
            self.entity_id = f"{platform.domain}.{slugify(' '.join(filter(None, (device, own))))}"

    async def async_added_to_hass(self) -> None:
        """Listen to the device's availability and to the capabilities it shows."""
        await super().async_added_to_hass()
        watched = frozenset({self._capability, *self._commanded})
        self.async_on_remove(self.site.async_add_listener(self.path, self._handle_update, watched))

    @callback
    def _handle_update(self) -> None:
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Unavailable while the device's availability topic says offline."""
        return self.site.available(self.path)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """`pending`: a command awaits the device's confirmation.

        While pending, the entity's state shows the target (optimistic); once the device
        confirms, its reported state; after the last failed try, the last reported state.
        `held_until`: automation commands are held until then (thrash guard, thrash.py).
        """
        if not self._commanded:
            return None
        attrs: dict[str, Any] = {ATTR_PENDING: self.site.any_pending(self.path, self._commanded)}
        guard = async_get_guard(self.hass) if self.hass is not None else None
        if guard is not None and (until := guard.held_until(self.entity_id)) is not None:
            attrs[ATTR_HELD_UNTIL] = until.isoformat()
        return attrs

    def _command(self, capability: str, value: Any) -> Coroutine[Any, Any, None]:
        """The command to await. It is taken now, while the entity's context is this
        service call's (a light gathers its commands: they start later)."""
        command = GuardedCommand(
            entity_id=self.entity_id,
            name=self.spec.name,
            context=self._context,
            capability=capability,
            before=self.site.value(self.path, capability),
            after=value,
            write_state=self._write_state_if_added,
        )
        return self._guarded(command)

    async def _guarded(self, command: GuardedCommand) -> None:
        """Send the command unless the thrash guard holds the entity."""
        guard = async_get_guard(self.hass)
        if guard is not None:
            if guard.unannounced(command.context):
                # HA 2026 defers an event fired while another is dispatched: the
                # automation_triggered of the run that sent this command arrives once
                # this task yields. Yield once so the guard knows the automation.
                await asyncio.sleep(0)
            hold = bool(self.site.options.get(CONF_THRASH_HOLD, True))
            if not guard.allow(command, hold=hold):
                return  # held: automations keep flipping this entity
        await self.site.async_command(self.path, command.capability, command.after)

    @callback
    def _write_state_if_added(self) -> None:
        if self.hass is not None and self.platform is not None and self.entity_id:
            self.async_write_ha_state()
