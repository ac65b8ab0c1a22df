"""Client of the cloud bridge's local HTTP API (docs/protocol.md, "Bridge local API")."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import aiohttp
from homeassistant.util import dt as dt_util

STATUS_TIMEOUT = aiohttp.ClientTimeout(total=10)
# Activation and deregistration wait for the cloud: up to 3 attempts of 10 s each.
ACTION_TIMEOUT = aiohttp.ClientTimeout(total=60)


class BridgeError(Exception):
    """The bridge could not be reached or refused the request; str() is the reason."""


class BridgeConnectionError(BridgeError):
    """No answer (connection refused, timeout, not JSON)."""


class BridgeAuthError(BridgeError):
    """The token was refused (HTTP 401 or 403)."""


def failure_reason(status: int, body: Any) -> str | None:
    """The bridge's reason when an answer reports a failure, else None.

    Failures come as HTTP errors with `{"error": {"message"}}`, or as outcomes with
    `"ok": false` (ping, resync) or `"success": false` (activate, deregister) and a reason.
    """
    if not isinstance(body, dict):
        return f"HTTP {status}" if status >= 400 else None
    failed = status >= 400 or body.get("ok") is False or body.get("success") is False
    if not failed:
        return None
    error = body.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(body.get("reason") or f"HTTP {status}")


class BridgeClient:
    """Calls the bridge at host:port with its Bearer token (the token is never logged)."""

    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, token: str) -> None:
        self._session = session
        self.host = host
        self.port = port
        self._headers = {"Authorization": f"Bearer {token}"}

    @property
    def url(self) -> str:
        """The API's base URL."""
        return f"http://{self.host}:{self.port}"

    async def _request(
        self, method: str, path: str, timeout: aiohttp.ClientTimeout, body: Any = None
    ) -> tuple[int, Any]:
        try:
            async with self._session.request(
                method, f"{self.url}{path}", json=body, headers=self._headers, timeout=timeout
            ) as resp:
                if resp.status in (401, 403):
                    raise BridgeAuthError(f"the bridge refused the token (HTTP {resp.status})")
                try:
                    payload = await resp.json(content_type=None)
                except ValueError as err:
                    raise BridgeConnectionError(
                        f"not a bridge answer (HTTP {resp.status})"
                    ) from err
                return resp.status, payload
        except (aiohttp.ClientError, TimeoutError) as err:
            raise BridgeConnectionError(
                f"cannot reach the bridge at {self.host}:{self.port}: {err or type(err).__name__}"
            ) from err

    async def status(self) -> dict[str, Any]:
        """GET /api/status."""
        status, body = await self._request("GET", "/api/status", STATUS_TIMEOUT)
        if (reason := failure_reason(status, body)) is not None:
            raise BridgeConnectionError(reason)
        if not isinstance(body, dict) or "contract_id" not in body or "instance_id" not in body:
            raise BridgeConnectionError("the status names no contract and instance")
        return body

    async def action(self, name: str) -> dict[str, Any]:
        """POST /api/<name> (activate, deregister, ping, resync); a failed outcome raises."""
        status, body = await self._request("POST", f"/api/{name}", ACTION_TIMEOUT)
        if (reason := failure_reason(status, body)) is not None:
            raise BridgeError(reason)
        return body if isinstance(body, dict) else {}

    async def exposure(self) -> list[str]:
        """GET /api/exposure: the allow-list the bridge enforces now."""
        status, body = await self._request("GET", "/api/exposure", STATUS_TIMEOUT)
        if (reason := failure_reason(status, body)) is not None:
            raise BridgeError(reason)
        entities = body.get("entities") if isinstance(body, dict) else None
        if not isinstance(entities, list):
            raise BridgeError("the exposure names no entities")
        return [str(entity) for entity in entities]

    async def set_exposure(self, entities: list[str]) -> list[str]:
        """PUT /api/exposure; returns the allow-list the bridge stored."""
        status, body = await self._request(
            "PUT", "/api/exposure", STATUS_TIMEOUT, {"entities": entities}
        )
        if (reason := failure_reason(status, body)) is not None:
            raise BridgeError(reason)
        return list(body.get("entities", [])) if isinstance(body, dict) else []


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO date or date-time of the status (dates are midnight UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    if (moment := dt_util.parse_datetime(value)) is None:
        if (day := dt_util.parse_date(value)) is None:
            return None
        moment = datetime.combine(day, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
