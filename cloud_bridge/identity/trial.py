"""The trial connection: does the new certificate work? A ping answered says yes."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING

from cloud_bridge.identity.fleet import ProvisioningError
from cloud_bridge.protocol.packets import (
    PacketError,
    decode,
    encode,
    parse_ping_reply,
    ping_request,
)
from cloud_bridge.protocol.topics import Topics
from cloud_bridge.transport.base import ConnectionEvent, TransportError

if TYPE_CHECKING:
    from cloud_bridge.identity.enrol import IdentityTransport
    from cloud_bridge.identity.rotator import RotationSettings

TRIAL_SEQ_BASE = 1 << 40  # above any seq the bridge's own PingManager uses: it ignores these


async def trial_ping(
    transport: IdentityTransport, settings: RotationSettings, *, timeout: float
) -> float:
    """Connect with the new certificate, ping, disconnect; return the RTT in ms."""
    topics = Topics.for_contract(settings.contract_id, settings.topic_prefix)
    seq = TRIAL_SEQ_BASE + secrets.randbelow(1 << 30)
    answered: asyncio.Event = asyncio.Event()

    def on_message(topic: str, payload: bytes) -> None:
        try:
            reply = parse_ping_reply(decode(payload))
        except PacketError:
            return
        if topic == topics.ping_reply and reply.seq == seq and reply.ok:
            answered.set()

    def on_connection(_event: ConnectionEvent) -> None:
        return None

    transport.set_handlers(on_message, on_connection)
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            await transport.connect()
            await transport.subscribe(topics.ping_reply, 1)
            await transport.publish(
                topics.ping, encode(ping_request(settings.contract_id, time.time(), seq)), 1
            )
            await answered.wait()
    except TimeoutError as err:
        raise ProvisioningError(
            f"trial connection with the new certificate: no ping answer within {timeout:g} s",
            "trial_failed",
        ) from err
    except TransportError as err:
        raise ProvisioningError(
            f"trial connection with the new certificate failed: {err}", "trial_failed"
        ) from err
    finally:
        await transport.disconnect()
    return (time.monotonic() - started) * 1000.0
