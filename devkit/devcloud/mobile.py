"""The mobile app, as a command line: list a home's devices, send a command, watch results.

It talks only to the dev cloud's HTTP API, as the real app talks to the cloud.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TextIO

import aiohttp

type JSONDict = dict[str, Any]


class MobileClient:
    """A thin client of the dev cloud's API."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url.rstrip("/")

    async def _get(self, path: str) -> Any:
        async with self._session.get(self._url + path) as response:
            response.raise_for_status()
            return await response.json()

    async def home(self, cid: str | None) -> str:
        """The given home, or the only/first one the cloud knows."""
        if cid:
            return cid
        homes = await self._get("/api/homes")
        if not homes:
            raise LookupError("the dev cloud knows no home")
        return str(homes[0]["contract_id"])

    async def entities(self, cid: str) -> JSONDict:
        """The home's entities with their cloud-side state."""
        result: JSONDict = await self._get(f"/api/homes/{cid}/entities")
        return result

    async def send(self, cid: str, service: str, entity_id: str, data: JSONDict) -> JSONDict:
        """Send a command from the mobile app; returns the command as stored."""
        body = {"service": service, "entity_id": entity_id, "data": data, "origin": "mobile"}
        async with self._session.post(f"{self._url}/api/homes/{cid}/commands", json=body) as resp:
            if resp.status >= 400:
                raise RuntimeError(f"{resp.status}: {await resp.text()}")
            result: JSONDict = await resp.json()
            return result

    async def send_rule(self, cid: str, body: JSONDict) -> JSONDict:
        """Send a rule command (interactions, schedules); returns the command as stored."""
        async with self._session.post(f"{self._url}/api/homes/{cid}/rules", json=body) as resp:
            if resp.status >= 400:
                raise RuntimeError(f"{resp.status}: {await resp.text()}")
            result: JSONDict = await resp.json()
            return result

    async def rules(self, cid: str) -> JSONDict:
        """The home's cloud rules as last synced, with the last refusal of each."""
        result: JSONDict = await self._get(f"/api/homes/{cid}/rules")
        return result

    async def store_send(self, cid: str, commands: list[str]) -> JSONDict:
        """Put a command file in the home's store (the cloud nudges the home)."""
        body = {"commands": commands}
        url = f"{self._url}/api/homes/{cid}/store/commands"
        async with self._session.post(url, json=body) as resp:
            if resp.status >= 400:
                raise RuntimeError(f"{resp.status}: {await resp.text()}")
            result: JSONDict = await resp.json()
            return result

    async def store_results(self, cid: str) -> JSONDict | None:
        """The home's last result file (None before its first)."""
        async with self._session.get(f"{self._url}/api/homes/{cid}/store/results") as resp:
            if resp.status == 404:
                return None
            if resp.status >= 400:
                raise RuntimeError(f"{resp.status}: {await resp.text()}")
            result: JSONDict = await resp.json()
            return result

    async def wait_store_result(
        self, cid: str, version: str, timeout: float = 60.0, poll: float = 0.2
    ) -> JSONDict | None:
        """The result of one file version, once it is in the store."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            result = await self.store_results(cid)
            if result is not None and result.get("file_version") == version:
                return result
            await asyncio.sleep(poll)
        return None

    async def command(self, command_id: str) -> JSONDict:
        """A command with its results."""
        result: JSONDict = await self._get(f"/api/commands/{command_id}")
        return result

    async def follow(
        self, command_id: str, out: TextIO, timeout: float = 60.0, poll: float = 0.1
    ) -> JSONDict:
        """Print each new result until a final one arrives (or the timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        printed = 0
        while True:
            command = await self.command(command_id)
            for result in command["results"][printed:]:
                out.write(format_result(result) + "\n")
                out.flush()
            printed = len(command["results"])
            if command["final"] or loop.time() > deadline:
                return command
            await asyncio.sleep(poll)

    async def watch(self, out: TextIO, limit: int | None = None) -> None:
        """Print every command result the cloud receives (Server-Sent Events)."""
        seen = 0
        async with self._session.get(
            self._url + "/api/events", timeout=aiohttp.ClientTimeout(total=None)
        ) as response:
            async for raw in response.content:
                line = raw.decode().strip()
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if event.get("type") != "result":
                    continue
                result = event["result"]
                out.write(f"{result['id']} {format_result(result)}\n")
                out.flush()
                seen += 1
                if limit is not None and seen >= limit:
                    return


def format_result(result: JSONDict) -> str:
    """One result as a line: status, reason, observed state."""
    text = str(result["status"])
    if result.get("reason"):
        text += f" ({result['reason']})"
    state = result.get("state")
    if isinstance(state, dict) and state.get("state") is not None:
        text += f" -> {state.get('entity_id')}={state.get('state')}"
        brightness = (state.get("attributes") or {}).get("brightness")
        if brightness is not None:
            text += f" brightness={brightness}"
    return text


def format_store_result(result: JSONDict) -> str:
    """A result file as lines: the general status, then one line per command."""
    head = f"{result['general_status']}"
    if result.get("general_error"):
        head += f" ({result['general_error']})"
    lines = [
        f"{head} [execution {result.get('execution_id')}, {str(result.get('file_version'))[:12]}]"
    ]
    lines.extend(
        f"  {c['status']:<6} {c['command']} -> {str(c['result'])[:160]}" for c in result["commands"]
    )
    return "\n".join(lines)


def format_entities(home: JSONDict) -> str:
    """The devices grouped by area, one line per entity."""
    lines: list[str] = []
    area: object = object()
    for entity in home["entities"]:
        if entity["area"] != area:
            area = entity["area"]
            lines.append(f"[{area or 'No area'}]")
        lines.append(f"  {entity['entity_id']:<40} {entity['state']!s:<12} {entity['name']}")
    return "\n".join(lines) if lines else "(no entities yet)"
