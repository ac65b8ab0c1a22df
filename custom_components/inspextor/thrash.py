"""The thrash guard: an InspeXtor entity flipped too often by automations is held.

Each state-flipping command (on↔off, open↔closed) whose context comes from an automation
or script run is counted per entity; runs are mapped to automations by their
`automation_triggered` and `script_started` events (HA passes the run's context to the
service calls it makes; HA 2026 dispatches those events only after the event that
triggered the run, so an entity yields once before asking about an unknown context).
More than `flips` flips in `window` seconds is thrashing: one warning, a repair issue
naming the automations, an `inspextor_thrashing` event and, when holding is on,
automation commands to the entity are dropped for `cooldown` seconds.
Commands from a person (a context with a user: UI, app, voice, the cloud bridge) always
pass. The hold ends by itself.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.components.automation import (
    EVENT_AUTOMATION_RELOADED,
    EVENT_AUTOMATION_TRIGGERED,
)
from homeassistant.components.script.const import EVENT_SCRIPT_STARTED
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, Context, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER

DATA_THRASH: HassKey[ThrashGuard] = HassKey(f"{DOMAIN}_thrash")
EVENT_THRASHING = "inspextor_thrashing"
ISSUE_THRASHING = "thrashing"
FLIP_CAPABILITIES = frozenset({"brightness", "position"})
RUNS_KEPT = 4096  # recent automation/script runs remembered by context id


def is_flip(capability: str, before: Any, after: Any) -> bool:
    """The command turns the entity on from off (or opens it from closed), or back."""
    if capability not in FLIP_CAPABILITIES:
        return False
    if not isinstance(before, (int, float)) or not isinstance(after, (int, float)):
        return False
    return (before > 0) != (after > 0)


@dataclass(frozen=True, slots=True)
class GuardedCommand:
    """A command an entity is about to send, and how to show a hold on it."""

    entity_id: str
    name: str
    context: Context | None
    capability: str
    before: Any
    after: Any
    write_state: Callable[[], None]


@dataclass(slots=True)
class _Entity:
    flips: deque[tuple[datetime, str]] = field(default_factory=deque)
    held_until: datetime | None = None
    last: dict[str, Any] = field(default_factory=dict)  # capability -> last target sent
    cancel: CALLBACK_TYPE | None = None


class ThrashGuard:
    """Counts automation flips per entity and holds thrashing entities."""

    def __init__(
        self, hass: HomeAssistant, flips: int = 6, window: float = 10.0, cooldown: float = 60.0
    ) -> None:
        self.hass = hass
        self.flips = flips
        self.window = timedelta(seconds=window)
        self.cooldown = cooldown
        self._runs: OrderedDict[str, str] = OrderedDict()
        self._entities: dict[str, _Entity] = {}

    @callback
    def async_start(self) -> Callable[[], None]:
        """Listen to automation and script runs; returns the function that stops it."""
        stops = [
            self.hass.bus.async_listen(EVENT_AUTOMATION_TRIGGERED, self._run_started),
            self.hass.bus.async_listen(EVENT_SCRIPT_STARTED, self._run_started),
            self.hass.bus.async_listen(EVENT_AUTOMATION_RELOADED, self._reloaded),
        ]

        @callback
        def _stop() -> None:
            for stop in stops:
                stop()
            for state in self._entities.values():
                if state.cancel is not None:
                    state.cancel()

        return _stop

    @callback
    def _reloaded(self, _event: Event) -> None:
        """The user changed the automations: the thrashing repairs have done their job."""
        for entity_id in self._entities:
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_THRASHING}_{entity_id}")

    @callback
    def _run_started(self, event: Event) -> None:
        if event.context.user_id is not None:
            return  # a person ran it: what it does is theirs
        # A script an automation runs shares the automation's context: keep the automation.
        self._runs.setdefault(event.context.id, str(event.data.get(ATTR_ENTITY_ID)))
        if len(self._runs) > RUNS_KEPT:
            self._runs.popitem(last=False)

    def origin(self, context: Context | None) -> str | None:
        """The automation or script behind a command's context; None for a person's."""
        if context is None or context.user_id is not None:
            return None
        return self._runs.get(context.id) or self._runs.get(context.parent_id or "")

    def unannounced(self, context: Context | None) -> bool:
        """A context without a user whose run the guard has not heard of (yet)."""
        return context is not None and context.user_id is None and self.origin(context) is None

    def held_until(self, entity_id: str | None) -> datetime | None:
        """When the hold of the entity ends (None: not held)."""
        state = self._entities.get(entity_id or "")
        return None if state is None else state.held_until

    @callback
    def allow(self, command: GuardedCommand, *, hold: bool = True) -> bool:
        """Whether the command may be sent (False: the entity is held, it is dropped)."""
        state = self._entities.setdefault(command.entity_id, _Entity())
        # The last target sent, not the state: commands run concurrently.
        before = state.last.get(command.capability, command.before)
        origin = self.origin(command.context)
        if origin is not None and state.held_until is not None:
            LOGGER.debug("Held: %s from %s to %s", command.capability, origin, command.entity_id)
            return False
        state.last[command.capability] = command.after
        if origin is None or not is_flip(command.capability, before, command.after):
            return True
        now = dt_util.utcnow()
        state.flips.append((now, origin))
        while state.flips and now - state.flips[0][0] > self.window:
            state.flips.popleft()
        if len(state.flips) <= self.flips:
            return True
        self._thrashing(command, state, hold=hold)
        if hold:
            state.last[command.capability] = before  # dropped: the target stays
        return not hold

    def _thrashing(self, command: GuardedCommand, state: _Entity, *, hold: bool) -> None:
        automations = sorted({origin for _at, origin in state.flips})
        names = [self._name(key) for key in automations]
        flips, window = len(state.flips), self.window.total_seconds()
        LOGGER.warning(
            "%s is thrashing: %d flips in %g s by %s%s",
            command.entity_id,
            flips,
            window,
            ", ".join(automations),
            f"; automation commands held for {self.cooldown:g} s" if hold else "",
        )
        until = dt_util.utcnow() + timedelta(seconds=self.cooldown) if hold else None
        self.hass.bus.async_fire(
            EVENT_THRASHING,
            {
                ATTR_ENTITY_ID: command.entity_id,
                "automations": automations,
                "flips": flips,
                "window": window,
                "held_until": None if until is None else until.isoformat(),
            },
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_THRASHING}_{command.entity_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_THRASHING,
            translation_placeholders={
                "entity": f"{command.name} ({command.entity_id})",
                "automations": ", ".join(names),
                "flips": str(flips),
                "window": f"{window:g}",
                "cooldown": f"{self.cooldown:g}",
            },
        )
        state.flips.clear()
        if until is not None:
            state.held_until = until
            state.cancel = async_call_later(
                self.hass,
                self.cooldown,
                HassJob(partial(self._release, command, state), cancel_on_shutdown=True),
            )
            command.write_state()

    @callback
    def _release(self, command: GuardedCommand, state: _Entity, _now: datetime) -> None:
        state.held_until = None
        state.cancel = None
        LOGGER.info("%s: automation commands pass again", command.entity_id)
        command.write_state()

    def _name(self, key: str) -> str:
        """An automation's alias as a markdown link to its editor, else its entity id."""
        state = self.hass.states.get(key)
        if state is None:
            return key
        config_id = state.attributes.get("id")
        if key.startswith("automation.") and config_id:
            return f"[{state.name}](/config/automation/edit/{config_id})"
        return str(state.name)


@callback
def async_get_guard(hass: HomeAssistant) -> ThrashGuard | None:
    """The guard of this HA (set up with the integration)."""
    return hass.data.get(DATA_THRASH)
