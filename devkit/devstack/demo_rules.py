"""The demo's two cloud-made rules, created through the dev cloud as its page would.

A schedule opens the bedroom shade two minutes after the demo starts (then daily at that
time) and an interaction turns the living room strip on when the kitchen light goes on:
click the kitchen light on the page and watch the strip follow.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

FINAL = {"succeeded", "failed", "rejected", "expired", "duplicate"}


def demo_rules(now: datetime) -> list[dict[str, Any]]:
    """The schedule (two minutes from `now`) and the interaction, in the cloud's form."""
    at = (now + timedelta(minutes=2)).strftime("%H:%M:00")
    return [
        {
            "rule_id": "demo_shade",
            "kind": "schedule",
            "name": "Open the bedroom shade",
            "trigger": {"type": "time", "at": at},
            "actions": [{"service": "cover.open_cover", "entity_id": "cover.bedroom_shade"}],
        },
        {
            "rule_id": "demo_strip",
            "kind": "interaction",
            "name": "Kitchen light brings the strip on",
            "trigger": {"type": "state", "entity_id": "light.kitchen_light", "to": "on"},
            "actions": [{"service": "light.turn_on", "entity_id": "light.living_room_strip"}],
        },
    ]


async def _final(session: aiohttp.ClientSession, url: str, timeout: float = 60) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with session.get(url) as resp:
            command = await resp.json()
        done = [r for r in command.get("results", []) if r["status"] in FINAL]
        if done:
            return dict(done[-1])
        await asyncio.sleep(0.3)
    return {"status": "no answer", "reason": f"within {timeout:g} s"}


async def add_demo_rules(devcloud_url: str, contract_id: str) -> list[str]:
    """Create the demo's rules (an existing one is updated); one line per rule."""
    lines = []
    base = f"{devcloud_url}/api/homes/{contract_id}/rules"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for rule in demo_rules(datetime.now(UTC)):
            result: dict[str, Any] = {}
            for op in ("create", "update"):  # a second demo run finds them saved
                async with session.post(base, json={"op": op, "rule": rule}) as resp:
                    sent = await resp.json()
                result = await _final(session, f"{devcloud_url}/api/commands/{sent['id']}")
                if result["status"] == "succeeded":
                    break
            reason = f" ({result.get('reason')})" if result.get("reason") else ""
            lines.append(f"{rule['kind']} {rule['name']!r}: {result['status']}{reason}")
    return lines
