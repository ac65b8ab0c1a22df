"""A paho client in a background thread that timestamps what it sees and can publish."""

from __future__ import annotations

from collections.abc import Callable
import socket
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

type Handler = Callable[[float, str, bytes], None]


class Probe:
    """Subscribes on a broker and hands every message (monotonic time, topic, payload) on."""

    def __init__(
        self, port: int, client_id: str, host: str = "127.0.0.1", *, nodelay: bool = True
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.host = host
        self.port = port
        self.handlers: list[Handler] = []
        # called on the network thread after every (re)connect, e.g. to resubscribe
        self.on_connect: list[Callable[[], None]] = []
        self.count = 0
        self.bytes = 0
        self.lock = threading.Lock()
        self._connected = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        if nodelay:
            # an observer must not add Nagle delays of its own (see bench/nagle.py)
            self.client.on_socket_open = self._on_socket_open

    @staticmethod
    def _on_socket_open(_client: Any, _userdata: Any, sock: Any) -> None:
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect(self, *_args: Any) -> None:
        self._connected.set()
        for hook in self.on_connect:
            hook()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        with self.lock:
            self.count += 1
            self.bytes += len(msg.payload) + len(msg.topic.encode())
        for handler in self.handlers:
            handler(now, msg.topic, msg.payload)

    def start(self, subscriptions: list[str] | None = None, qos: int = 1) -> Probe:
        """Connect, subscribe and wait until the subscriptions are in place."""
        self.client.connect(self.host, self.port, keepalive=60)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise ConnectionError(f"probe could not connect to {self.host}:{self.port}")
        for topic in subscriptions or []:
            info = self.client.subscribe(topic, qos=qos)
            if info[0] != mqtt.MQTT_ERR_SUCCESS:
                raise ConnectionError(f"probe could not subscribe to {topic}")
        time.sleep(0.3)  # SUBACKs
        return self

    def reset(self) -> None:
        """Zero the counters."""
        with self.lock:
            self.count = 0
            self.bytes = 0

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
