"""Resync: publish `<base>/ask` until the site hears its own ask come back.

HA's MQTT client reports "connected" before it has (re)subscribed, and an ask sent then is
answered while nobody listens. The ask travels through the broker like any message, so
seeing our own ask on the site's wildcard subscription proves the subscription was live
when the devices received it, and their answers will arrive. Until then the ask is
repeated with backoff (ASK_RETRY_DELAYS), then a warning is logged.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from typing import Any
from uuid import uuid4

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .const import ASK_RETRY_DELAYS, LOGGER


class Resync:
    """The site-wide ask of one site."""

    def __init__(self, hass: HomeAssistant, base: str, publish: Callable[[str, str], None]) -> None:
        self._hass = hass
        self._base = base
        self._publish = publish
        self.asks_sent = 0
        self.confirmed = 0
        self._cid: str | None = None
        self._attempt = 0
        self._cancel_timer: CALLBACK_TYPE | None = None

    @callback
    def async_start(self) -> None:
        """Ask every device (again), restarting the backoff."""
        self.async_cancel()
        self._attempt = 0
        self._send()

    @callback
    def async_cancel(self) -> None:
        """Stop asking (disconnected or unloading)."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        self._cid = None

    @callback
    def async_heard(self, payload: bytes) -> None:
        """Our own `<base>/ask` came back: the devices' answers will reach us."""
        try:
            cid = json.loads(payload).get("cid")
        except (ValueError, AttributeError):
            return
        if cid is not None and cid == self._cid:
            self.async_cancel()
            self.confirmed += 1
            LOGGER.debug("Site %s: resync request is live on the broker", self._base)

    @callback
    def _send(self, _now: Any = None) -> None:
        self._cancel_timer = None
        self._cid = cid = uuid4().hex
        self.asks_sent += 1
        self._publish(f"{self._base}/ask", json.dumps({"cid": cid}))
        if self._attempt < len(ASK_RETRY_DELAYS):
            delay = ASK_RETRY_DELAYS[self._attempt]
            self._attempt += 1
            self._cancel_timer = async_call_later(
                self._hass, delay, HassJob(self._send, cancel_on_shutdown=True)
            )
        else:
            LOGGER.warning(
                "Site %s: the resync request never came back from the broker", self._base
            )
