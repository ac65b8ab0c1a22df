"""A things_sync site at run time: the protocol engine, its socket, and HA's view of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN, LOGGER
from .things_sync.engine import Engine, ThingsError
from .things_sync.events import Availability, Event, ProtocolError, PulseReceived, StateChanged
from .things_sync.site import Site
from .things_sync.udp import Endpoint, RequestFailed, open_endpoint

EVENT_THINGS_PULSE = f"{DOMAIN}_things_pulse"

type ThingsConfigEntry = ConfigEntry[ThingsSite]


class ThingsSite:
    """One things_sync site: entities listen per thing, requests wait for answers."""

    def __init__(self, hass: HomeAssistant, unique: str, site: Site, options: dict[str, Any]):
        self.hass = hass
        self.unique = unique
        self.site = site
        self.options = options
        self.engine = Engine(site, clock=hass.loop.time)
        self.endpoint: Endpoint | None = None
        self._listeners: defaultdict[str, list[Callable[[], None]]] = defaultdict(list)
        self._silent: set[str] = set()

    async def async_start(self) -> None:
        """Bind the site's port, then ask every controller for its things."""
        self.endpoint = await open_endpoint(
            self.engine, self.site.ha_host, self.site.ha_port, self._on_events
        )

    async def async_stop(self) -> None:
        """Close the socket; waiting requests fail."""
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None

    def available(self, controller: str) -> bool:
        """Does the controller answer?"""
        return self.engine.controllers[controller].available

    def value(self, thing: str) -> Any:
        """The owner's last reported value (None: not known yet)."""
        return self.engine.values.get(thing)

    @callback
    def async_add_listener(self, thing: str, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call listener when the thing's value or its owner's availability changes."""
        self._listeners[thing].append(listener)

        def remove() -> None:
            self._listeners[thing].remove(listener)

        return remove

    @callback
    def _on_events(self, events: list[Event]) -> None:
        changed: set[str] = set()
        for event in events:
            if isinstance(event, StateChanged):
                changed.add(event.thing)
            elif isinstance(event, Availability):
                changed.update(t.name for t in self.site.things_of(event.controller))
                self._log_availability(event)
            elif isinstance(event, PulseReceived):
                self.hass.bus.async_fire(
                    EVENT_THINGS_PULSE, {"controller": event.controller, "thing": event.thing}
                )
            elif isinstance(event, ProtocolError):
                log = LOGGER.warning if event.first else LOGGER.debug
                log("things_sync %s from %s: %s", event.error_id, event.source, event.detail)
        for thing in changed:
            for listener in list(self._listeners.get(thing, ())):
                listener()

    def _log_availability(self, event: Availability) -> None:
        """Once when a controller stops answering, once when it is back."""
        if not event.available:
            self._silent.add(event.controller)
            LOGGER.info("things_sync controller %s does not answer", event.controller)
        elif event.controller in self._silent:
            self._silent.discard(event.controller)
            LOGGER.info("things_sync controller %s answers again", event.controller)

    async def _request(self, make: Callable[[Engine], int], name: str) -> Any:
        if self.endpoint is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="site_unloaded")
        try:
            token = make(self.engine)
        except ThingsError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=f"things_{err.key}",
                translation_placeholders={"name": err.thing},
            ) from err
        try:
            return await self.endpoint.track(token)
        except RequestFailed as err:
            ttl = "forever" if self.site.ttl is None else f"{self.site.ttl:g}"
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="things_no_answer",
                translation_placeholders={"name": name, "ttl": ttl},
            ) from err

    async def async_set(self, thing: str, value: Any) -> Any:
        """Set an output and wait for its owner's reply."""
        return await self._request(lambda e: e.set(thing, value), thing)

    async def async_pulse(self, thing: str) -> None:
        """Fire a pulse and wait for its owner's acknowledgement."""
        await self._request(lambda e: e.pulse(thing), thing)

    def controller_for(self, controller: str | None, role: str | None) -> str:
        """A named controller, else the first with the role."""
        if controller:
            if controller not in self.site.controllers:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="things_unknown_controller",
                    translation_placeholders={"name": controller},
                )
            return controller
        try:
            return self.engine.controller_for_role(role or "")
        except ThingsError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="things_unknown_role",
                translation_placeholders={"name": role or ""},
            ) from err

    async def async_command(
        self, controller: str, role: str, cmd: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        """A role command; the controller's result."""
        return await self._request(lambda e: e.command(controller, role, cmd, args, kwargs), cmd)

    async def async_cum(self, thing: str) -> Any:
        """A thing's cumulative data from its owner."""
        return await self._request(lambda e: e.cum(thing), thing)

    async def async_clim(self, controller: str, settings: dict[str, Any] | None) -> Any:
        """Reload the climate settings (None) or send new ones."""
        return await self._request(lambda e: e.clim(controller, settings), controller)
