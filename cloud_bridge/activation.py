"""Activation and deregistration: publish, await the cloud's reply, retry, log every try."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import logging
from typing import Any
import uuid

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.protocol.packets import (
    ActivationAction,
    ActivationReply,
    InstanceIdentity,
    PacketError,
    activation_request,
    decode,
    encode,
    parse_activation_reply,
)
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.ratelimit import Priority
from cloud_bridge.storage import Store
from cloud_bridge.sync import SendFunc
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ActivationOutcome:
    """What an activation or deregistration ended with."""

    action: str
    success: bool
    attempts: int
    reason: str | None
    subscription_state: str | None = None
    subscription_expires: str | None = None
    # why it failed: "refused" (the cloud said no), "not_connected" (no attempt reached
    # the cloud), "no_reply" (sent, never answered); None on success
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON for the local API."""
        return asdict(self)


class ActivationManager:
    """One activation or deregistration at a time; the state is kept in the store."""

    def __init__(
        self,
        store: Store,
        topics: Topics,
        identity: InstanceIdentity,
        send: SendFunc,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self.store = store
        self.topics = topics
        self.identity = identity
        self._send = send
        self.timeout = timeout
        self.attempts = attempts
        self._lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[ActivationReply]] = {}

    def on_reply(self, payload: bytes) -> None:
        """A message on `inx/<cid>/activate`."""
        try:
            reply = parse_activation_reply(decode(payload))
        except PacketError as err:
            _LOGGER.warning("ignored a malformed activation reply: %s", err)
            return
        future = self._pending.get(reply.req)
        if future is None and not reply.req and len(self._pending) == 1:
            future = next(iter(self._pending.values()))  # a cloud that does not echo req
        if future is None or future.done():
            _LOGGER.info("ignored an activation reply for no pending request (%s)", reply.req)
            return
        future.set_result(reply)

    async def run(self, action: ActivationAction) -> ActivationOutcome:
        """Publish the request up to `attempts` times; a `failed` reply is final."""
        async with self._lock:
            return await self._run(action)

    async def _run(self, action: ActivationAction) -> ActivationOutcome:
        req = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        reason = "no reply"
        published = False
        for attempt in range(1, self.attempts + 1):
            future: asyncio.Future[ActivationReply] = loop.create_future()
            self._pending[req] = future
            packet = encode(activation_request(self.identity, action, req, attempt))
            try:
                await self._send(self.topics.activate, packet, Priority.CONTROL)
            except TransportError as err:
                reason = f"could not publish: {err}"
                await self._log(req, action, attempt, "publish_failed", reason)
                await asyncio.sleep(min(self.timeout, 1.0))
                continue
            published = True
            await self._log(req, action, attempt, "sent", None)
            try:
                reply = await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                reason = f"no reply within {self.timeout:g} s"
                await self._log(req, action, attempt, "timeout", reason)
                continue
            finally:
                self._pending.pop(req, None)
            return await self._finish(req, action, attempt, reply)
        self._pending.pop(req, None)
        if not published:
            reason = f"not connected to the cloud: the request never reached it ({reason})"
        reason = f"gave up after {self.attempts} attempts: {reason}"
        await self._log(req, action, self.attempts, "gave_up", reason)
        await self._save_state(action, "failed", reason)
        code = "no_reply" if published else "not_connected"
        return ActivationOutcome(action.value, False, self.attempts, reason, code=code)

    async def _finish(
        self, req: str, action: ActivationAction, attempt: int, reply: ActivationReply
    ) -> ActivationOutcome:
        status = "success" if reply.success else "failed"
        await self._log(req, action, attempt, status, reply.reason)
        await self.store.set(
            "subscription",
            {"state": reply.subscription_state, "expires": reply.subscription_expires},
        )
        if reply.success:
            state = "activated" if action is ActivationAction.ACTIVATE else "deregistered"
        else:
            state = "failed"
        await self._save_state(action, state, reply.reason)
        return ActivationOutcome(
            action.value,
            reply.success,
            attempt,
            reply.reason,
            reply.subscription_state,
            reply.subscription_expires,
            code=None if reply.success else "refused",
        )

    async def _log(
        self, req: str, action: ActivationAction, attempt: int, status: str, reason: str | None
    ) -> None:
        _LOGGER.info(
            "%s attempt %d (%s): %s%s",
            action.value,
            attempt,
            req,
            status,
            f" ({reason})" if reason else "",
        )
        await self.store.log_activation(req, action.value, attempt, status, reason)

    async def _save_state(self, action: ActivationAction, state: str, reason: str | None) -> None:
        await self.store.set(
            "activation",
            {
                "state": state,
                "action": action.value,
                "last_attempt": self._clock(),
                "reason": reason,
            },
        )
