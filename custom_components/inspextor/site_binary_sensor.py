"""A site's binary sensors: motion of motion sensors and of the Steinel multisensor."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.helpers.entity import Entity

from .entity import InspextorEntity
from .payload import as_bool
from .site import InspextorSite
from .sitemap import DeviceSpec, Kind


@dataclass(frozen=True, kw_only=True)
class InspextorBinarySensorDescription(BinarySensorEntityDescription):
    """A boolean capability and the kinds that have it."""

    kinds: frozenset[Kind]
    value_fn: Callable[[Any], bool | None] = as_bool


BINARY_SENSORS: tuple[InspextorBinarySensorDescription, ...] = (
    InspextorBinarySensorDescription(
        key="motion",
        translation_key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        kinds=frozenset({Kind.MOTION, Kind.STEINEL}),
    ),
)


def entities(site: InspextorSite, spec: DeviceSpec) -> Iterable[Entity]:
    """A binary sensor per boolean capability of the device's kind."""
    return (InspextorBinarySensor(site, spec, d) for d in BINARY_SENSORS if spec.kind in d.kinds)


class InspextorBinarySensor(InspextorEntity, BinarySensorEntity):
    """A read-only boolean; a plain motion sensor's only entity takes the device name."""

    entity_description: InspextorBinarySensorDescription

    def __init__(
        self,
        site: InspextorSite,
        spec: DeviceSpec,
        description: InspextorBinarySensorDescription,
    ) -> None:
        super().__init__(site, spec, description.key)
        self.entity_description = description
        if spec.kind is Kind.MOTION:
            self._attr_name = None

    @property
    def is_on(self) -> bool | None:
        """The last reported value."""
        return self.entity_description.value_fn(
            self.site.reported(self.path, self.entity_description.key)
        )
