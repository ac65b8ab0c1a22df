"""A test-side MQTT client that records every message it sees and waits for conditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import json
import secrets
from typing import Any

from devkit.simulator.mqtt_loop import AsyncMqttClient
from tests.helpers.polling import DEFAULT_TIMEOUT, wait_for


@dataclass(frozen=True, slots=True)
class Seen:
    """One received message."""

    topic: str
    payload: bytes

    @property
    def text(self) -> str:
        return self.payload.decode()

    @property
    def json(self) -> Any:
        return json.loads(self.payload)


class Observer:
    """Subscribes to a filter and keeps everything; `wait_for` polls with a timeout."""

    def __init__(self, host: str, port: int) -> None:
        self.messages: list[Seen] = []
        self.client = AsyncMqttClient(
            host, port, f"observer-{secrets.token_hex(4)}", self._record, reconnect=False
        )

    def _record(self, topic: str, payload: bytes) -> None:
        self.messages.append(Seen(topic, payload))

    async def start(self, *filters: str) -> Observer:
        for topic_filter in filters or ("#",):
            await self.client.subscribe(topic_filter, 1)
        await self.client.connect()
        return self

    async def stop(self) -> None:
        await self.client.disconnect()

    def on(self, topic: str) -> list[Seen]:
        return [m for m in self.messages if m.topic == topic]

    async def wait_for(
        self, predicate: Callable[[list[Seen]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> list[Seen]:
        """Wait until predicate(messages) holds; AssertionError with context if not."""
        try:
            await wait_for(lambda: predicate(self.messages), timeout, "the messages", 0.01)
        except AssertionError as err:
            tail = [(m.topic, m.payload[:80]) for m in self.messages[-10:]]
            raise AssertionError(f"{err}; last: {tail}") from None
        return self.messages

    async def wait_topic(self, topic: str, timeout: float = DEFAULT_TIMEOUT, **match: Any) -> Seen:
        """The first message on `topic` whose JSON payload has the given fields."""

        def matching(messages: list[Seen]) -> list[Seen]:
            found = []
            for m in messages:
                if m.topic != topic:
                    continue
                if match:
                    try:
                        body = m.json
                    except ValueError:
                        continue
                    if not isinstance(body, dict) or any(
                        body.get(k) != v for k, v in match.items()
                    ):
                        continue
                found.append(m)
            return found

        await self.wait_for(lambda msgs: bool(matching(msgs)), timeout)
        return matching(self.messages)[0]

    def publish(self, topic: str, payload: Any, qos: int = 1, retain: bool = False) -> None:
        data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        self.client.publish(topic, data, qos, retain)
