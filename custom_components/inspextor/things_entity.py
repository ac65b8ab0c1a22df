"""Base entity of a things_sync thing: one device per controller, availability per controller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, MANUFACTURER
from .things_site import ThingsConfigEntry, ThingsSite
from .things_sync.site import Direction, Thing, ValueType

type ThingFilter = Callable[[Thing], bool]
type ThingFactory = Callable[[ThingsSite, Thing], Entity]


def is_kind(direction: Direction, *types: ValueType) -> ThingFilter:
    """Things of one direction and one of the value types."""
    return lambda thing: thing.direction is direction and thing.type in types


def things_platform(
    wanted: ThingFilter, factory: ThingFactory
) -> Callable[[HomeAssistant, ThingsConfigEntry, AddConfigEntryEntitiesCallback], None]:
    """A platform's entity set-up: one entity per wanted thing of the site file."""

    def add_entities(
        hass: HomeAssistant,
        entry: ThingsConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        things = entry.runtime_data
        async_add_entities(
            factory(things, thing) for thing in things.site.things.values() if wanted(thing)
        )

    return add_entities


class ThingEntity(Entity):
    """A thing of a things_sync site, pushed by the site's events."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, things: ThingsSite, thing: Thing) -> None:
        self.things = things
        self.thing = thing
        self._attr_unique_id = f"{things.unique}:{thing.name}"
        self._attr_name = thing.name.replace("_", " ")
        controller = things.site.controllers[thing.owner]
        info = DeviceInfo(
            identifiers={(DOMAIN, f"{things.unique}:{controller.name}")},
            manufacturer=MANUFACTURER,
            model="things_sync controller",
            name=controller.name,
        )
        areas = {t.area for t in things.site.things_of(controller.name) if t.area}
        if len(areas) == 1:
            info["suggested_area"] = areas.pop()
        self._attr_device_info = info

    async def async_added_to_hass(self) -> None:
        """Listen to the thing and to its controller's availability."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.things.async_add_listener(self.thing.name, self.async_write_ha_state)
        )

    @property
    def available(self) -> bool:
        """The owner answers."""
        return self.things.available(self.thing.owner)

    @property
    def reported(self) -> Any:
        """The owner's last reported value."""
        return self.things.value(self.thing.name)
