"""The asyncio adapter on a real socket: requests fail when it closes, errors never raise."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.inspextor.things_sync.engine import Engine
from custom_components.inspextor.things_sync.events import Event
from custom_components.inspextor.things_sync.site import parse_site
from custom_components.inspextor.things_sync.udp import RequestFailed, open_endpoint

from .test_things_sync_core import SITE


async def test_closing_fails_what_waits_and_stops_sending(socket_enabled: None) -> None:
    loop = asyncio.get_running_loop()
    events: list[Event] = []
    engine = Engine(parse_site(SITE), clock=loop.time)
    endpoint = await open_endpoint(engine, "127.0.0.1", 0, events.extend)
    assert endpoint.address[0] == "127.0.0.1"
    waiting = endpoint.track(engine.set("hall_light", True))
    await asyncio.sleep(0.05)
    assert endpoint.bytes_sent > 0  # the start-up asks and the set went out
    endpoint.error_received(ConnectionRefusedError("port unreachable"))  # ICMP: ignored
    endpoint.close()
    with pytest.raises(RequestFailed, match="closed"):
        await waiting
    sent = endpoint.bytes_sent
    endpoint.pump()  # after close: nothing more goes out
    endpoint.datagram_received(b"[]", ("127.0.0.2", 5006))
    assert endpoint.bytes_sent == sent
