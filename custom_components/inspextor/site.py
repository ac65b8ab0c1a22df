"""One InspeXtor site: the single wildcard subscription and the in-memory dispatch.

The site subscribes to `<base>/#` once, parses every topic from its end (docs/protocol.md)
and keeps per device: the last reported value of each capability, availability, and a
malformed-payload counter. Entities read from here and register one listener per device;
nothing subscribes per entity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import json
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .const import DOMAIN, LOGGER, signal_kind_changed, signal_new_device
from .device_commands import CommandKey, CommandTracker
from .kind_mismatch import KindMismatches
from .payload import (
    MalformedPayload,
    TopicType,
    normalise,
    parse_topic,
    valid_command,
    valid_status,
)
from .resync import Resync
from .sitemap import DeviceSpec, SiteMap, SiteMapError, parse_announcement

if TYPE_CHECKING:
    from .stale_devices import StaleDevices


@dataclass(slots=True)
class DeviceState:
    """What the site knows about one device."""

    reported: dict[str, Any] = field(default_factory=dict)
    available: bool | None = None  # None until the retained availability arrives
    malformed: int = 0
    last_problem: str | None = None


class InspextorSite:
    """Runtime data of a site config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        base: str,
        site_map: SiteMap,
        *,
        timeout: float,
        retries: int,
    ) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.base = base
        self.site_map = site_map
        self.devices: dict[str, DeviceSpec] = dict(site_map.devices)
        self.announced: dict[str, DeviceSpec] = {}
        self.states: dict[str, DeviceState] = {path: DeviceState() for path in self.devices}
        self.commands = CommandTracker(hass, self._publish, self._command_changed, timeout, retries)
        self.options: dict[str, Any] = {}  # the entry options this site runs with
        self.hub_device_id: str | None = None  # the site's hub device in the registry
        self.ignored_messages = 0
        self.resync = Resync(hass, base, self._publish_in_background)
        self._listeners: dict[str, list[tuple[CALLBACK_TYPE, frozenset[str] | None]]] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        # Told (path, online) on every availability message (stale_devices.py).
        self.availability_listeners: list[Callable[[str, bool], None]] = []
        self.stale_devices: StaleDevices | None = None
        self.kind_mismatches = KindMismatches(hass, entry_id, base)

    # -- lifecycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Subscribe once to `<base>/#`, follow the connection, and ask for states."""
        self._unsubs.append(
            await mqtt.async_subscribe(
                self.hass, f"{self.base}/#", self._message_received, qos=1, encoding=None
            )
        )
        self._unsubs.append(
            mqtt.async_subscribe_connection_status(self.hass, self._connection_changed)
        )
        if mqtt.is_connected(self.hass):
            self.async_resync()

    @callback
    def async_stop(self) -> None:
        """Unsubscribe and cancel timers and pending commands."""
        while self._unsubs:
            self._unsubs.pop()()
        self.resync.async_cancel()
        self.commands.async_cancel_all()
        self.kind_mismatches.async_clear()

    # -- listeners and state for entities ----------------------------------------------

    @callback
    def async_add_listener(
        self,
        path: str,
        listener: CALLBACK_TYPE,
        capabilities: frozenset[str] | None = None,
    ) -> CALLBACK_TYPE:
        """Call `listener` whenever something about the device at `path` changes: its
        availability, or one of `capabilities` (any capability when None)."""
        listeners = self._listeners.setdefault(path, [])
        entry = (listener, capabilities)
        listeners.append(entry)

        @callback
        def remove() -> None:
            listeners.remove(entry)

        return remove

    @callback
    def _notify(self, path: str, capability: str | None = None) -> None:
        """Tell the listeners of the device (only those of `capability` when given: a
        multisensor's temperature does not rewrite its humidity, lux and motion)."""
        for listener, capabilities in list(self._listeners.get(path, ())):
            if capability is None or capabilities is None or capability in capabilities:
                listener()

    def state(self, path: str) -> DeviceState:
        """The device's state record (created for announced devices)."""
        state = self.states.get(path)  # not setdefault: it would build one per call
        if state is None:
            state = self.states[path] = DeviceState()
        return state

    def reported(self, path: str, capability: str) -> Any:
        """The value the device last reported, or None."""
        return self.state(path).reported.get(capability)

    def value(self, path: str, capability: str) -> Any:
        """The value entities show: the pending target, else the reported value."""
        pending, target = self.commands.target((path, capability))
        return target if pending else self.reported(path, capability)

    def any_pending(self, path: str, capabilities: tuple[str, ...]) -> bool:
        """Whether a command for any of the capabilities awaits its confirmation (asked
        at every state write of a commandable entity: mostly nothing is pending)."""
        pending = self.commands.pending
        return bool(pending) and any((path, cap) in pending for cap in capabilities)

    @property
    def asks_sent(self) -> int:
        """How many site-wide asks were published."""
        return self.resync.asks_sent

    @property
    def resyncs_confirmed(self) -> int:
        """How many site-wide asks came back through the subscription."""
        return self.resync.confirmed

    def available(self, path: str) -> bool:
        """Unavailable only once the device said `offline` (or its last will did)."""
        return self.state(path).available is not False

    # -- commands ----------------------------------------------------------------------

    def validate_command(self, path: str, capability: str, value: Any) -> DeviceSpec:
        """Refuse commands to unknown devices, sensors, bad values and offline devices."""
        spec = self.devices.get(path)
        if spec is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_device",
                translation_placeholders={"device": path},
            )
        if capability not in spec.capabilities or not spec.is_commandable(capability):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_writable",
                translation_placeholders={"device": spec.name, "capability": capability},
            )
        if not valid_command(spec.kind, capability, value):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_value",
                translation_placeholders={
                    "device": spec.name,
                    "capability": capability,
                    "value": json.dumps(value, default=str),
                },
            )
        if not self.available(path):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="device_offline",
                translation_placeholders={"device": spec.name},
            )
        return spec

    async def async_command(self, path: str, capability: str, value: Any) -> None:
        """Send a command and wait for the device's confirmation."""
        spec = self.validate_command(path, capability, value)
        topic = f"{self.base}/{path}/{spec.subtopic_for(capability)}/command"
        await self.commands.async_send((path, capability), topic, value, spec.name)

    async def _publish(self, topic: str, payload: str) -> None:
        """Commands are never retained, QoS 1."""
        await mqtt.async_publish(self.hass, topic, payload, qos=1, retain=False)

    @callback
    def _publish_in_background(self, topic: str, payload: str) -> None:
        """Publish a request (ask); a failure only means the answer will not come."""

        async def _publish() -> None:
            try:
                await self._publish(topic, payload)
            except HomeAssistantError as err:
                LOGGER.debug("Could not publish %s: %s", topic, err)

        self.hass.async_create_task(_publish(), f"{DOMAIN} publish {topic}")

    @callback
    def _command_changed(self, key: CommandKey) -> None:
        self._notify(*key)

    # -- resync ------------------------------------------------------------------------

    @callback
    def async_resync(self) -> None:
        """Ask every device for its state (see resync.py)."""
        self.resync.async_start()

    @callback
    def _ask_device(self, path: str) -> None:
        """Ask one device for all its statuses (`<base>/<device>/ask`)."""
        self._publish_in_background(f"{self.base}/{path}/ask", json.dumps({"cid": uuid4().hex}))

    @callback
    def _connection_changed(self, connected: bool) -> None:
        if connected:
            LOGGER.debug("Site %s: MQTT connected, asking every device", self.base)
            self.async_resync()
        else:
            self.resync.async_cancel()

    # -- dispatch ----------------------------------------------------------------------

    @callback
    def _message_received(self, msg: mqtt.ReceiveMessage) -> None:
        parsed = parse_topic(self.base, msg.topic)
        payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
        if parsed is None:
            self._ignore(msg.topic, "not a protocol topic")
            return
        match parsed.type:
            case TopicType.STATUS:
                assert parsed.subtopic is not None
                self._handle_status(parsed.device, parsed.subtopic, payload)
            case TopicType.AVAILABILITY:
                self._handle_availability(parsed.device, payload)
            case TopicType.ANNOUNCE:
                self._handle_announce(parsed.device, payload)
            case TopicType.ASK if not parsed.device:
                self.resync.async_heard(payload)
            case _:
                pass  # commands (ours or another controller's) and per-device asks

    def _ignore(self, topic: str, why: str) -> None:
        self.ignored_messages += 1
        LOGGER.debug("Ignoring %s: %s", topic, why)

    def _malformed(self, path: str, problem: str) -> None:
        state = self.state(path)
        state.malformed += 1
        state.last_problem = problem
        if state.malformed == 1:
            LOGGER.warning(
                "Device %s/%s sent a malformed message (%s); further ones are logged at debug",
                self.base,
                path,
                problem,
            )
        else:
            LOGGER.debug("Device %s/%s sent a malformed message: %s", self.base, path, problem)

    def _handle_status(self, path: str, subtopic: str, payload: bytes) -> None:
        spec = self.devices.get(path)
        if spec is None:
            self._ignore(path, "device is not in the site map and has not announced itself")
            return
        capability = spec.capability_for(subtopic)
        if capability is None:
            self._ignore(f"{path}/{subtopic}", "subtopic means nothing for this device")
            return
        try:
            data = normalise(payload)
        except MalformedPayload as err:
            self._malformed(path, f"{subtopic}: {err}")
            return
        value = data["value"]
        if not valid_status(spec.kind, capability, value):
            self._malformed(path, f"{subtopic}: {value!r} is not a valid {capability}")
            return
        self.state(path).reported[capability] = value
        cid = data.get("cid")
        if isinstance(cid, str):
            self.commands.handle_echo((path, capability), cid)
        self._notify(path, capability)

    def _handle_availability(self, path: str, payload: bytes) -> None:
        # Kept even for a device not known yet: its retained announcement may come later.
        text = payload.decode("utf-8", "replace").strip().lower()
        if text not in ("online", "offline"):
            self._malformed(path, f"availability {text!r}")
            return
        state = self.state(path)
        online = text == "online"
        previous, state.available = state.available, online
        for listener in list(self.availability_listeners):
            listener(path, online)
        if not online and previous is not False:
            LOGGER.info("Device %s/%s is unavailable", self.base, path)
        elif online and previous is False:
            LOGGER.info("Device %s/%s is available again", self.base, path)
            if path in self.devices:
                self._ask_device(path)  # it may have changed while it was away
        self._notify(path)

    def _handle_announce(self, path: str, payload: bytes) -> None:
        if not payload:
            # A cleared retained announcement: the device left.
            self.announced.pop(path, None)
            if (mapped := self.site_map.devices.get(path)) is not None:
                self.kind_mismatches.announced(mapped, None)
            return
        try:
            data = json.loads(payload.decode("utf-8"))
            if not isinstance(data, dict):
                raise MalformedPayload("announcement is not a JSON object")
            spec = parse_announcement(path, data, self.site_map.subtopics)
        except (ValueError, SiteMapError) as err:
            self._malformed(path, f"announcement: {err}")
            return
        self.announced[path] = spec
        if (mapped := self.site_map.devices.get(path)) is not None:
            self.kind_mismatches.announced(mapped, spec)  # the site map wins, visibly
            return
        known = self.devices.get(path)
        if known is not None:
            if known.kind != spec.kind:
                self._change_kind(known, spec)
            else:
                self.devices[path] = spec
            return
        self.devices[path] = spec
        self.state(path)
        LOGGER.info("Device %s/%s announced itself as %s", self.base, path, spec.kind)
        async_dispatcher_send(self.hass, signal_new_device(self.entry_id), spec)
        self._ask_device(path)  # its statuses before the announcement were not ours yet

    def _change_kind(self, old: DeviceSpec, new: DeviceSpec) -> None:
        """An announced device is now another kind: the platforms replace its entities
        (entity.py, `site_platform`), its old values are forgotten, it is asked again."""
        LOGGER.warning(
            "Device %s/%s (%s) changed its kind from %s to %s; its entities are replaced",
            self.base,
            new.path,
            new.name,
            old.kind,
            new.kind,
        )
        self.commands.async_cancel_device(new.path, new.name)
        self.devices[new.path] = new
        self.state(new.path).reported.clear()  # the old kind's values mean nothing now
        async_dispatcher_send(self.hass, signal_kind_changed(self.entry_id), new)
        self._ask_device(new.path)


type SiteConfigEntry = ConfigEntry[InspextorSite]
