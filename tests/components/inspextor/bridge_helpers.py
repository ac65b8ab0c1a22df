"""A cloud bridge's local API on HA's mocked aiohttp client (phcc's aioclient_mock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
import json
from typing import Any

from aiohttp import ClientConnectionError
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.inspextor.const import (
    CONF_ENTRY_TYPE,
    CONF_EXPOSED_ENTITIES,
    DOMAIN,
    ENTRY_TYPE_BRIDGE,
)

HOST = "127.0.0.1"
PORT = 9998
TOKEN = "s3cret-bridge-token"
BRIDGE_ID = "bridge:C-1001:home-1"
ROUTES = (
    ("get", "/api/status"),
    ("post", "/api/activate"),
    ("post", "/api/deregister"),
    ("post", "/api/ping"),
    ("post", "/api/resync"),
    ("post", "/api/certificate/rotate"),
    ("get", "/api/exposure"),
    ("put", "/api/exposure"),
)


def healthy_status() -> dict[str, Any]:
    """What an activated, connected bridge reports (docs/protocol.md)."""
    return {
        "contract_id": "C-1001",
        "instance_id": "home-1",
        "cloud_connected": True,
        "ha_connected": True,
        "activation": {"state": "activated", "last_attempt": 1_790_000_000.0, "reason": None},
        "subscription": {"state": "active", "expires": "2030-12-31"},
        "ping": {"last_rtt_ms": 42.5, "last_success": 1_790_000_000.0},
        "outbox": {"structure": 0, "high": 1, "low": 7, "dropped_low": 3},
        "last_error": None,
        "errors": {
            "cloud": None,
            "ha": None,
            "storage": None,
            "activation": None,
            "identity": None,
            "store_channel": None,
        },
        "certificate_expires": None,
        "kick_loop": False,
        "version": "0.3.0",
    }


@dataclass
class FakeBridge:
    """Answers the bridge's routes on host:port; checks the Bearer token like the bridge.

    `outcomes` maps an action to (HTTP status, body); `reachable=False` refuses connections.
    """

    mock: AiohttpClientMocker
    host: str = HOST
    port: int = PORT
    token: str = TOKEN
    status: dict[str, Any] = field(default_factory=healthy_status)
    reachable: bool = True
    exposure_status: int = 200
    exposure: list[str] | None = None
    outcomes: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.outcomes = {
            "activate": (200, {"action": "activate", "success": True, "reason": None}),
            "deregister": (200, {"action": "deregister", "success": True, "reason": None}),
            "ping": (200, {"ok": True, "rtt_ms": 12.0}),
            "resync": (200, {"ok": True, "entities": 4}),
            "certificate/rotate": (200, {"ok": True, "reason": None}),
        } | self.outcomes
        for method, path in ROUTES:
            self.mock.request(
                method, f"http://{self.host}:{self.port}{path}", side_effect=self._answer
            )

    def posts(self, action: str) -> int:
        """How often an action was posted."""
        return sum(1 for m, p, _ in self.calls if m == "post" and p == f"/api/{action}")

    def puts(self) -> list[Any]:
        """The bodies of every PUT /api/exposure."""
        return [body for m, p, body in self.calls if m == "put" and p == "/api/exposure"]

    async def _answer(self, method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        headers = self.mock.mock_calls[-1][3] or {}
        path = url.path
        if not self.reachable:
            return AiohttpClientMockResponse(method, url, exc=ClientConnectionError("refused"))
        if headers.get("Authorization") != f"Bearer {self.token}":
            error = {
                "error": {"code": "unauthorized", "message": "a valid Bearer token is required"}
            }
            return AiohttpClientMockResponse(method, url, status=401, json=error)
        body = json.loads(data) if isinstance(data, str | bytes) else data
        self.calls.append((method.lower(), path, body))
        if path == "/api/status":
            return AiohttpClientMockResponse(method, url, json=self.status)
        if path == "/api/exposure":
            if method.lower() == "put" and self.exposure_status == 200:
                self.exposure = list(body["entities"])
            if self.exposure_status != 200:
                error = {"error": {"code": "storage", "message": "the disk is full"}}
                return AiohttpClientMockResponse(
                    method, url, status=self.exposure_status, json=error
                )
            return AiohttpClientMockResponse(method, url, json={"entities": self.exposure or []})
        status, outcome = self.outcomes[path.removeprefix("/api/")]
        return AiohttpClientMockResponse(method, url, status=status, json=outcome)


def bridge_entry(exposed: list[str] | None = None) -> MockConfigEntry:
    """A bridge entry on 127.0.0.1:9998."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="InspeXtor cloud bridge",
        unique_id=BRIDGE_ID,
        data={
            CONF_ENTRY_TYPE: ENTRY_TYPE_BRIDGE,
            CONF_HOST: HOST,
            CONF_PORT: PORT,
            CONF_TOKEN: TOKEN,
        },
        options={CONF_EXPOSED_ENTITIES: exposed or []},
    )


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the 15 s polling interval pass."""
    freezer.tick(timedelta(seconds=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def repair_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    """This integration's repair issues by id."""
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }
