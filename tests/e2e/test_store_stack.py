"""End to end: the demo's store channel (folder backend) drives the simulated home through
real hass: the dev cloud puts a command file and nudges, the bridge runs it, the dev cloud
reads the result file."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from devkit.devstack.stack import Stack
from tests.e2e.conftest import cloud_entity, devcloud

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _result(stack: Stack, version: str, timeout: float = 30) -> dict[str, Any]:
    path = f"/api/homes/{stack.config.contract_id}/store/results"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = await devcloud(stack, "GET", path)
        if status == 200 and body.get("file_version") == version:
            return dict(body)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no result file for {version[:12]}")


async def test_a_command_file_moves_the_real_light(stack: Stack) -> None:
    status, sent = await devcloud(
        stack,
        "POST",
        f"/api/homes/{stack.config.contract_id}/store/commands",
        {
            "commands": [
                "call_service('light.turn_on', 'light.kitchen_light', {'brightness': 61})",
                "call_service('light.turn_on', 'light.not_exposed', {})",
                "get_status()",
            ]
        },
    )
    assert status == 202, sent
    result = await _result(stack, sent["version"])
    assert [c["status"] for c in result["commands"]] == ["ok", "error", "ok"]
    assert "not exposed to the cloud" in result["commands"][1]["result"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        entity = await cloud_entity(stack, "light.kitchen_light")
        if entity and (entity.get("attributes") or {}).get("brightness") == 61:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the cloud never saw brightness 61: {entity}")
