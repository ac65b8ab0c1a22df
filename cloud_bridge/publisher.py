"""The one way out to the cloud: size check, rate limit by priority, publish with PUBACK."""

from __future__ import annotations

import logging

from cloud_bridge.protocol.packets import MAX_PUBLISH_BYTES
from cloud_bridge.ratelimit import Priority, RateLimiter
from cloud_bridge.transport.base import CloudTransport, TransportError

_LOGGER = logging.getLogger(__name__)


class Publisher:
    """Every publish of the bridge goes through here."""

    def __init__(
        self, transport: CloudTransport, limiter: RateLimiter, max_bytes: int = MAX_PUBLISH_BYTES
    ) -> None:
        self.transport = transport
        self.limiter = limiter
        self.max_bytes = max_bytes
        self.published = 0
        self.largest = 0

    async def publish(self, topic: str, payload: bytes, priority: Priority) -> None:
        """Publish at QoS 1 and return after the PUBACK; raises TransportError otherwise."""
        if len(payload) > self.max_bytes:
            raise TransportError(
                f"a {len(payload)}-byte packet for {topic} exceeds the "
                f"{self.max_bytes}-byte publish limit",
                "payload_too_large",
            )
        if not self.transport.connected:
            raise TransportError("not connected to the cloud", "not_connected")
        await self.limiter.acquire(priority, len(payload))
        await self.transport.publish(topic, payload, qos=1)
        self.published += 1
        self.largest = max(self.largest, len(payload))
        _LOGGER.debug("published %d bytes to %s", len(payload), topic)
