"""HA's automation config API (REST), limited to the automations the bridge made.

`POST/GET/DELETE /api/config/automation/config/<id>` is the API HA's automation editor
uses: HA validates the config, writes automations.yaml and reloads that automation
itself. Every call here refuses an id outside `AUTOMATION_PREFIX`, whatever the caller
asks, so no bug upstream can touch a user's automation. Inside the add-on the base URL
is `http://supervisor/core/api` with SUPERVISOR_TOKEN; outside it HA's URL and a token.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from cloud_bridge.ha.base import HAError
from cloud_bridge.protocol.rule_automation import AUTOMATION_PREFIX, rule_id_of

type JSONDict = dict[str, Any]


class AutomationConfigs(Protocol):
    """Read, write and delete automation configs under our prefix."""

    async def get(self, config_id: str) -> JSONDict | None:
        """The stored config, or None when there is none."""

    async def save(self, config_id: str, config: JSONDict) -> None:
        """Create or replace the config (HA reloads that automation)."""

    async def delete(self, config_id: str) -> bool:
        """Delete the config; False when there was none."""


def rest_base(ws_url: str) -> str:
    """HA's REST base (`.../api`) from its WebSocket URL (`.../api/websocket`,
    or the Supervisor proxy's `.../core/websocket`)."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.removesuffix("/").removesuffix("/websocket")
    if not path.endswith("/api"):
        path += "/api"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def check_owned(config_id: str) -> None:
    """Raise unless `config_id` is one of ours (the prefix and a rule id after it)."""
    if rule_id_of(config_id) is None or "/" in config_id:
        raise HAError(f"refusing to touch automation {config_id!r}: not under {AUTOMATION_PREFIX}")


class RestAutomationConfigs:
    """AutomationConfigs over HA's REST API with a bearer token."""

    def __init__(
        self, session: aiohttp.ClientSession, ws_url: str, token: str, timeout: float = 15.0
    ) -> None:
        self._session = session
        self._base = rest_base(ws_url)
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def _url(self, config_id: str) -> str:
        check_owned(config_id)
        return f"{self._base}/config/automation/config/{config_id}"

    async def _call(self, method: str, config_id: str, body: JSONDict | None = None) -> Any:
        url = self._url(config_id)
        try:
            async with self._session.request(
                method, url, json=body, headers=self._headers, timeout=self._timeout
            ) as resp:
                if resp.status == 404:
                    return None
                payload = await resp.json(content_type=None)
                if resp.status >= 400:
                    message = payload.get("message") if isinstance(payload, dict) else None
                    raise HAError(
                        f"Home Assistant refused the automation: {message or resp.status}",
                        "invalid_config" if resp.status == 400 else "ha_error",
                    )
                return payload
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise HAError(f"automation config API failed: {err}", "cannot_connect") from err

    async def get(self, config_id: str) -> JSONDict | None:
        """The stored config, or None when there is none."""
        found = await self._call("GET", config_id)
        return found if isinstance(found, dict) else None

    async def save(self, config_id: str, config: JSONDict) -> None:
        """Create or replace the config (HA reloads that automation)."""
        if config.get("id") != config_id:
            raise HAError("the config's id must be the id it is saved under")
        await self._call("POST", config_id, config)

    async def delete(self, config_id: str) -> bool:
        """Delete the config; False when there was none."""
        return await self._call("DELETE", config_id) is not None
