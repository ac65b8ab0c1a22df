"""The baseline forwarder: every HA state change becomes its own MQTT publish.

This is what a plain broker bridge (or a few lines of Node-RED) does: no batching, no
compression, no outbox, no rate limit. QoS 1 like ours, same broker, same machine.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

IN_FLIGHT = 100  # AWS IoT Core's limit of unacknowledged QoS 1 publishes per connection


class NaiveForwarder:
    """Publishes `{"entity_id", "state", "attributes", "ts"}` to `<prefix>/state/<entity>`."""

    def __init__(self, port: int, prefix: str, host: str = "127.0.0.1") -> None:
        self.prefix = prefix
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="bench-naive", protocol=mqtt.MQTTv311
        )
        self.client.max_inflight_messages_set(IN_FLIGHT)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self.host = host
        self.port = port
        self.sent = 0
        self.acked = 0
        self.bytes = 0
        self._connected = threading.Event()
        self._lock = threading.Lock()

    def _on_connect(self, *_args: Any) -> None:
        self._connected.set()

    def _on_publish(self, *_args: Any) -> None:
        with self._lock:
            self.acked += 1

    def start(self) -> None:
        """Connect (network loop in a thread)."""
        self.client.connect(self.host, self.port, keepalive=60)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise ConnectionError("naive forwarder could not connect")

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def forward(self, entity_id: str, state: dict[str, Any] | None) -> None:
        """One change, one publish."""
        body = {
            "entity_id": entity_id,
            "state": state.get("state") if state else None,
            "attributes": state.get("attributes", {}) if state else {},
            "ts": time.time(),
        }
        topic = f"{self.prefix}/state/{entity_id}"
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.client.publish(topic, payload, qos=1)
        self.sent += 1
        self.bytes += len(payload) + len(topic.encode())

    def wait_acked(self, timeout: float) -> bool:
        """Wait until every publish has its PUBACK."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.acked >= self.sent:
                    return True
            time.sleep(0.01)
        return False
