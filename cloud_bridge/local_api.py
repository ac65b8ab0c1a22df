"""The bridge's local HTTP API for the integration (docs/protocol.md, "Bridge local API").

Every route needs `Authorization: Bearer <token>` (compared in constant time); bodies are
at most 64 KiB; every answer, errors included, is JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import hmac
import json
import logging
import re
from typing import Any, Protocol

from aiohttp import web

_LOGGER = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
MAX_EXPOSED = 10_000
_ENTITY_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BridgeControl(Protocol):
    """What the API asks of the bridge."""

    async def status(self) -> dict[str, Any]:
        """The status document."""

    async def activate(self) -> dict[str, Any]:
        """Activate and return the outcome."""

    async def deregister(self) -> dict[str, Any]:
        """Deregister and return the outcome."""

    async def ping_now(self) -> dict[str, Any]:
        """Ping and return the rtt."""

    async def resync(self) -> dict[str, Any]:
        """Resnapshot structure and states."""

    async def get_exposure(self) -> list[str]:
        """The allow-list."""

    async def set_exposure(self, entities: list[str]) -> list[str]:
        """Replace the allow-list."""

    async def rotate_certificate(self) -> dict[str, Any]:
        """Rotate the device certificate now and return the outcome."""


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _exposure_body(body: bytes) -> list[str] | web.Response:
    """The entity ids of a PUT /api/exposure body, or the error response."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _error(400, "invalid_json", "the body must be JSON")
    entities = data.get("entities") if isinstance(data, dict) else None
    if not isinstance(entities, list) or len(entities) > MAX_EXPOSED:
        return _error(400, "invalid_exposure", '{"entities": [...]} with at most 10000 entity ids')
    bad = [e for e in entities if not isinstance(e, str) or not _ENTITY_RE.match(e)]
    if bad:
        return _error(400, "invalid_entity_id", f"not entity ids: {bad[:5]!r}")
    return entities


def _outcome(action: Callable[[], Awaitable[dict[str, Any]]]) -> Handler:
    """A route that runs `action` and answers its outcome (a failure is in the outcome)."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(await action())

    return handler


def build_app(control: BridgeControl, token: str) -> web.Application:
    """The aiohttp application (served by `LocalAPI`, or by tests directly)."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return _error(401, "unauthorized", "a valid Bearer token is required")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, "body_too_large", f"the body must be at most {MAX_BODY} bytes")
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "body_too_large", f"the body must be at most {MAX_BODY} bytes")
        except web.HTTPException as err:
            return _error(err.status, err.reason.lower().replace(" ", "_"), err.reason)

    async def status(request: web.Request) -> web.Response:
        return web.json_response(await control.status())

    async def ping(request: web.Request) -> web.Response:
        outcome = await control.ping_now()
        return web.json_response(outcome, status=200 if outcome.get("ok") else 504)

    async def get_exposure(request: web.Request) -> web.Response:
        return web.json_response({"entities": await control.get_exposure()})

    async def put_exposure(request: web.Request) -> web.Response:
        entities = _exposure_body(await request.read())
        if isinstance(entities, web.Response):
            return entities
        return web.json_response({"entities": await control.set_exposure(entities)})

    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app.router.add_get("/api/status", status)
    app.router.add_post("/api/activate", _outcome(control.activate))
    app.router.add_post("/api/deregister", _outcome(control.deregister))
    app.router.add_post("/api/ping", ping)
    app.router.add_post("/api/resync", _outcome(control.resync))
    app.router.add_post("/api/certificate/rotate", _outcome(control.rotate_certificate))
    app.router.add_get("/api/exposure", get_exposure)
    app.router.add_put("/api/exposure", put_exposure)
    return app


class LocalAPI:
    """Serves the app on host:port."""

    def __init__(self, control: BridgeControl, token: str, host: str, port: int) -> None:
        self.app = build_app(control, token)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen (raises OSError when the port is taken)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        _LOGGER.info("local API listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
