"""The dev cloud's HTTP side: a JSON API, Server-Sent Events and the control page."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
import json
from typing import Any

from aiohttp import web

from cloud_bridge.store_channel.backend import StoreUnavailableError

from .page import PAGE
from .service import DevCloud, dumps_event
from .store_desk import StoreDesk

DEVCLOUD_KEY = web.AppKey("devcloud", DevCloud)
MAX_BODY = 64 * 1024


def build_app(cloud: DevCloud) -> web.Application:
    """The aiohttp application serving the API and the page."""
    app = web.Application(client_max_size=MAX_BODY)
    app[DEVCLOUD_KEY] = cloud
    app.on_shutdown.append(_close_streams)  # type: ignore[arg-type]  # aiosignal/aiohttp stubs disagree
    app.add_routes(
        [
            web.get("/", page),
            web.get("/api/homes", homes),
            web.get("/api/homes/{cid}/entities", entities),
            web.post("/api/homes/{cid}/commands", post_command),
            web.get("/api/commands/{id}", get_command),
            web.post("/api/homes/{cid}/store/commands", post_store_commands),
            web.get("/api/homes/{cid}/store/results", get_store_results),
            web.get("/api/homes/{cid}/rules", get_rules),
            web.post("/api/homes/{cid}/rules", post_rule),
            web.get("/api/events", events),
        ]
    )
    return app


async def _close_streams(app: web.Application) -> None:
    app[DEVCLOUD_KEY].close_listeners()


async def page(_request: web.Request) -> web.Response:
    """The control page (inline HTML and JS)."""
    return web.Response(text=PAGE, content_type="text/html")


async def homes(request: web.Request) -> web.Response:
    """Every home (contract) the dev cloud knows."""
    cloud = request.app[DEVCLOUD_KEY]
    return web.json_response([c.as_json() for c in await cloud.contracts()])


async def entities(request: web.Request) -> web.Response:
    """A home's entities grouped with their area and cloud-side state."""
    cloud = request.app[DEVCLOUD_KEY]
    cid = request.match_info["cid"]
    if not any(c.contract_id == cid for c in await cloud.contracts()):
        raise web.HTTPNotFound(text=json.dumps({"error": "unknown home"}))
    return web.json_response(await cloud.entities(cid))


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body: Any = await request.json()
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise _bad("body must be JSON") from None
    if not isinstance(body, dict):
        raise _bad("body must be a JSON object")
    return body


def _ttl(body: dict[str, Any]) -> float:
    ttl = body.get("ttl", 30)
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not 0 < ttl <= 300:
        raise _bad("ttl must be a number of seconds in (0, 300]")
    return float(ttl)


async def _sent(request: web.Request, sending: Awaitable[str]) -> web.Response:
    """The command `sending` publishes, as 202 with the command; errors as HTTP errors."""
    cloud = request.app[DEVCLOUD_KEY]
    try:
        command_id = await sending
    except KeyError:
        raise web.HTTPNotFound(text=json.dumps({"error": "unknown home"})) from None
    except ValueError as err:
        raise _bad(str(err)) from None
    except (TimeoutError, ConnectionError):
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"error": "the cloud broker did not accept the command"}),
            content_type="application/json",
        ) from None
    return web.json_response(await cloud.command(command_id), status=202)


def _desk(request: web.Request) -> StoreDesk:
    desk = request.app[DEVCLOUD_KEY].desk
    if desk is None:
        raise web.HTTPServiceUnavailable(
            text=json.dumps({"error": "the dev cloud was started without a store"}),
            content_type="application/json",
        )
    return desk


async def post_store_commands(request: web.Request) -> web.Response:
    """Put a command file: {"commands": ["get_status()", ...], "ttl"?}; nudges the home."""
    desk = _desk(request)
    try:
        body: Any = await request.json()
    except (ValueError, RecursionError):
        raise _bad("body must be JSON") from None
    commands = body.get("commands") if isinstance(body, dict) else None
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise _bad("commands must be a list of command strings")
    ttl = body.get("ttl")
    if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0):
        raise _bad("ttl must be a positive number of seconds")
    try:
        sent = await desk.send(request.match_info["cid"], commands, ttl)
    except StoreUnavailableError as err:
        raise web.HTTPServiceUnavailable(text=json.dumps({"error": str(err)})) from None
    return web.json_response(sent, status=202)


async def get_store_results(request: web.Request) -> web.Response:
    """The home's last result file."""
    try:
        result = await _desk(request).results()
    except StoreUnavailableError as err:
        raise web.HTTPServiceUnavailable(text=json.dumps({"error": str(err)})) from None
    if result is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no result yet"}))
    return web.json_response(result)


async def post_rule(request: web.Request) -> web.Response:
    """Send a rule command: {"op", "rule"?, "rule_id"?, "force"?, "origin"?, "ttl"?}.

    The dev cloud passes the rule on as it is: the home validates it and says why not."""
    body = await _body(request)
    op, rule, rule_id = body.get("op"), body.get("rule"), body.get("rule_id")
    if not isinstance(op, str):
        raise _bad("op is a required string")
    if rule is not None and not isinstance(rule, dict):
        raise _bad("rule must be an object")
    if rule_id is not None and not isinstance(rule_id, str):
        raise _bad("rule_id must be a string")
    sending = request.app[DEVCLOUD_KEY].send_rule(
        request.match_info["cid"],
        op,
        rule=rule,
        rule_id=rule_id,
        force=body.get("force") is True,
        origin=str(body.get("origin", "cloud_ui")),
        ttl=_ttl(body),
    )
    return await _sent(request, sending)


async def get_rules(request: web.Request) -> web.Response:
    """The home's cloud rules as it last synced them, and the last refusal of each."""
    return web.json_response(await request.app[DEVCLOUD_KEY].rules(request.match_info["cid"]))


async def post_command(request: web.Request) -> web.Response:
    """Send a command: {"service", "entity_id", "data"?, "origin"?, "ttl"?}."""
    cloud = request.app[DEVCLOUD_KEY]
    body = await _body(request)
    service, entity_id = body.get("service"), body.get("entity_id")
    data = body.get("data") or {}
    if not isinstance(service, str) or not isinstance(entity_id, str):
        raise _bad("service and entity_id are required strings")
    if not isinstance(data, dict):
        raise _bad("data must be an object")
    sending = cloud.send_command(
        request.match_info["cid"],
        service,
        entity_id,
        data,
        origin=str(body.get("origin", "cloud_ui")),
        ttl=_ttl(body),
    )
    return await _sent(request, sending)


async def get_command(request: web.Request) -> web.Response:
    """A command and every result received for it."""
    command = await request.app[DEVCLOUD_KEY].command(request.match_info["id"])
    if command is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "unknown command"}))
    return web.json_response(command)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: every applied record, command and result, as it happens."""
    cloud = request.app[DEVCLOUD_KEY]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue = cloud.listen()
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), 15)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event["type"] == "closed":
                return response
            await response.write(f"data: {dumps_event(event)}\n\n".encode())
    except ConnectionResetError:
        return response  # the browser went away
    finally:
        cloud.unlisten(queue)
