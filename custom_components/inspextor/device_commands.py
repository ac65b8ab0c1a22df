"""Commands with confirmation: pending until the device echoes the command id.

docs/protocol.md, "Commands and confirmation". One pending command per (device path,
capability). A new target for a capability that is still pending replaces the target and
is sent at once; every resend carries the latest target and a new cid. Only an echo whose
cid was sent with the current target confirms; an echo of an older cid is just a status.
Callers await the outcome: None when confirmed, a translated HomeAssistantError after the
last try.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
import json
from typing import Any
from uuid import uuid4

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later

from .const import DOMAIN, LOGGER

type CommandKey = tuple[str, str]  # (device path, capability)
type Publisher = Callable[[str, str], Awaitable[None]]


@dataclass(slots=True)
class PendingCommand:
    """A command that the device has not confirmed yet."""

    key: CommandKey
    topic: str
    target: Any
    future: asyncio.Future[None]
    attempt: int = 0
    sent: dict[str, Any] = field(default_factory=dict)  # cid -> value sent with it
    cancel_timer: CALLBACK_TYPE | None = None


@dataclass(slots=True)
class CommandStats:
    """Counters shown in diagnostics."""

    sent: int = 0
    confirmed: int = 0
    resends: int = 0
    failures: int = 0


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a failed future as seen when its caller went away."""
    if not future.cancelled():
        future.exception()


class CommandTracker:
    """Sends commands, resends them, and resolves them on the matching echo."""

    def __init__(
        self,
        hass: HomeAssistant,
        publish: Publisher,
        on_change: Callable[[CommandKey], None],
        timeout: float,
        retries: int,
    ) -> None:
        self._hass = hass
        self._publish = publish
        self._on_change = on_change
        self.timeout = timeout
        self.retries = retries
        self.pending: dict[CommandKey, PendingCommand] = {}
        self.stats = CommandStats()

    async def async_send(self, key: CommandKey, topic: str, value: Any, label: str) -> None:
        """Send `value`; return once confirmed, raise HomeAssistantError after the last try."""
        pending = self.pending.get(key)
        if pending is None:
            future: asyncio.Future[None] = self._hass.loop.create_future()
            future.add_done_callback(_retrieve)
            pending = PendingCommand(key=key, topic=topic, target=value, future=future)
            self.pending[key] = pending
        pending.target = value
        pending.attempt = 0
        self._transmit(pending, label)
        self._on_change(key)
        await asyncio.shield(pending.future)

    def target(self, key: CommandKey) -> tuple[bool, Any]:
        """(True, target) while a command is pending for `key`."""
        if (pending := self.pending.get(key)) is None:
            return False, None
        return True, pending.target

    @callback
    def handle_echo(self, key: CommandKey, cid: str) -> bool:
        """Resolve the pending command when `cid` was sent with its current target."""
        pending = self.pending.get(key)
        if pending is None or cid not in pending.sent:
            return False
        if pending.sent[cid] != pending.target:
            LOGGER.debug("Echo of superseded command %s for %s", cid, key)
            return False
        self._finish(pending)
        self.stats.confirmed += 1
        pending.future.set_result(None)
        return True

    @callback
    def async_cancel_all(self) -> None:
        """Stop every pending command (the entry is unloading)."""
        for pending in list(self.pending.values()):
            self._fail(pending, "site_unloaded", {})

    @callback
    def async_cancel_device(self, path: str, label: str) -> None:
        """Fail the device's pending commands now: it changed its kind, they mean nothing."""
        for pending in [p for key, p in self.pending.items() if key[0] == path]:
            placeholders = {"device": label, "capability": pending.key[1]}
            self._fail(pending, "device_changed_kind", placeholders)

    def _fail(self, pending: PendingCommand, key: str, placeholders: dict[str, str]) -> None:
        self._finish(pending)
        pending.future.set_exception(
            HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders or None,
            )
        )

    def _finish(self, pending: PendingCommand) -> None:

        if pending.cancel_timer is not None:
            pending.cancel_timer()
            pending.cancel_timer = None
        self.pending.pop(pending.key, None)

    @callback
    def _transmit(self, pending: PendingCommand, label: str) -> None:
        cid = uuid4().hex
        pending.sent[cid] = pending.target
        pending.attempt += 1
        self.stats.sent += 1
        if pending.cancel_timer is not None:
            pending.cancel_timer()
        pending.cancel_timer = async_call_later(
            self._hass,
            self.timeout,
            HassJob(partial(self._timed_out, pending, label), cancel_on_shutdown=True),
        )
        payload = json.dumps({"value": pending.target, "cid": cid})
        self._hass.async_create_task(
            self._safe_publish(pending.topic, payload), f"{DOMAIN} command {cid}"
        )

    async def _safe_publish(self, topic: str, payload: str) -> None:
        try:
            await self._publish(topic, payload)
        except HomeAssistantError as err:
            # The timer resends; the final failure is what the caller sees.
            LOGGER.debug("Could not publish %s: %s", topic, err)

    @callback
    def _timed_out(self, pending: PendingCommand, label: str, _now: Any) -> None:
        pending.cancel_timer = None
        if self.pending.get(pending.key) is not pending:
            return
        if pending.attempt <= self.retries:
            self.stats.resends += 1
            LOGGER.debug("No confirmation for %s, resending %r", label, pending.target)
            self._transmit(pending, label)
            return
        self._finish(pending)
        self.stats.failures += 1
        LOGGER.warning(
            "%s did not confirm %s after %d tries", label, pending.key[1], pending.attempt
        )
        pending.future.set_exception(
            HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={
                    "device": label,
                    "capability": pending.key[1],
                    "attempts": str(pending.attempt),
                },
            )
        )
        self._on_change(pending.key)
