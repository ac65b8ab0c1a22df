"""A site's sensors: the Steinel multisensor's illuminance, temperature, humidity; ozone."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import LIGHT_LUX, PERCENTAGE, UnitOfTemperature
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.typing import StateType

from .compat import MICROGRAMS_PER_CUBIC_METER
from .entity import InspextorEntity
from .payload import as_number
from .site import InspextorSite
from .sitemap import DeviceSpec, Kind


@dataclass(frozen=True, kw_only=True)
class InspextorSensorDescription(SensorEntityDescription):
    """A sensor capability and the kinds that have it."""

    kinds: frozenset[Kind]
    value_fn: Callable[[Any], StateType] = as_number


SENSORS: tuple[InspextorSensorDescription, ...] = (
    InspextorSensorDescription(
        key="illuminance",
        translation_key="illuminance",
        device_class=SensorDeviceClass.ILLUMINANCE,
        native_unit_of_measurement=LIGHT_LUX,
        state_class=SensorStateClass.MEASUREMENT,
        kinds=frozenset({Kind.STEINEL}),
    ),
    InspextorSensorDescription(
        key="temperature",
        translation_key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        kinds=frozenset({Kind.STEINEL}),
    ),
    InspextorSensorDescription(
        key="humidity",
        translation_key="humidity",
        device_class=SensorDeviceClass.HUMIDITY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        kinds=frozenset({Kind.STEINEL}),
    ),
    InspextorSensorDescription(
        key="ozone",
        translation_key="ozone",
        device_class=SensorDeviceClass.OZONE,
        native_unit_of_measurement=MICROGRAMS_PER_CUBIC_METER,
        state_class=SensorStateClass.MEASUREMENT,
        kinds=frozenset({Kind.OZONE}),
    ),
)


def entities(site: InspextorSite, spec: DeviceSpec) -> Iterable[Entity]:
    """A sensor per measured capability of the device's kind."""
    return (InspextorSensor(site, spec, d) for d in SENSORS if spec.kind in d.kinds)


class InspextorSensor(InspextorEntity, SensorEntity):
    """A read-only measurement."""

    entity_description: InspextorSensorDescription

    def __init__(
        self, site: InspextorSite, spec: DeviceSpec, description: InspextorSensorDescription
    ) -> None:
        super().__init__(site, spec, description.key)
        self.entity_description = description
        if spec.kind is Kind.OZONE:
            # The ozone sensor's only entity is the device: its name alone ("Office ozone").
            self._attr_name = None

    @property
    def native_value(self) -> StateType:
        """The last reported value."""
        return self.entity_description.value_fn(
            self.site.reported(self.path, self.entity_description.key)
        )
