"""HA's repairs page in headless Chromium shows two fighting automations (issue 13).

A real `hass` with the InspeXtor site and two automations that turn the kitchen light on
and off on the same motion: the repairs page lists the conflict naming both. Set
INSPEXTOR_SCREENSHOT=path to keep the screenshot (docs/images/interactions-repair.png is
made this way).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import time
from typing import Any

import aiohttp
import pytest
import yaml

from devkit.devcloud.broker import start_local_broker
from devkit.devstack import hass as hass_module
from devkit.devstack.hass import HassInstance
from tests.helpers.mosquitto import free_port
from tests.helpers.webdriver import chromium_paths, close_browser, start_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SITE_MAP = """
subtopics: {M: brightness}
devices:
  kitchen/1: {name: Kitchen light, kind: light, area: Kitchen}
  hall/pir: {name: Hall motion, kind: motion}
"""
AUTOMATIONS = [
    {
        "id": f"hall_motion_{service}",
        "alias": f"Hall motion: light {service}",
        "triggers": [{"trigger": "state", "entity_id": "binary_sensor.hall_motion", "to": "on"}],
        "actions": [
            {"action": f"light.turn_{service}", "target": {"entity_id": "light.kitchen_light"}}
        ],
    }
    for service in ("on", "off")
]
# Finds the element holding a text (through every shadow root: HA's frontend is made of
# web components).
_WALK = """
const want = arguments[0];
const walk = (node) => {
  if (!node) return null;
  if (node.shadowRoot) { const hit = walk(node.shadowRoot); if (hit) return hit; }
  for (const child of node.childNodes || []) {
    if (child.nodeType === 3 && child.textContent.includes(want)) return node;
    if (child.nodeType === 1) { const hit = walk(child); if (hit) return hit; }
  }
  return null;
};
const found = walk(document.documentElement);
"""
FIND_TEXT = _WALK + "return found !== null;"
CLICK_TEXT = _WALK + "if (found) { found.click(); } return found !== null;"


async def _issues(hass: HassInstance) -> list[dict[str, Any]]:
    assert hass.credentials is not None
    async with aiohttp.ClientSession() as session, session.ws_connect(hass.websocket_url) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": hass.credentials.token})
        await ws.receive_json()
        await ws.send_json({"id": 1, "type": "repairs/list_issues"})
        reply = await ws.receive_json()
    return [i for i in reply["result"]["issues"] if i["domain"] == "inspextor"]


async def _browser_tokens(hass: HassInstance) -> dict[str, Any]:
    """A login as the frontend does it: login flow, then tokens for its client id."""
    assert hass.credentials is not None
    client_id = f"{hass.url}/"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{hass.url}/auth/login_flow",
            json={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{client_id}?auth_callback=1",
            },
        ) as resp:
            flow = await resp.json()
        async with session.post(
            f"{hass.url}/auth/login_flow/{flow['flow_id']}",
            json={
                "client_id": client_id,
                "username": hass.credentials.username,
                "password": hass.credentials.password,
            },
        ) as resp:
            code = (await resp.json())["result"]
        async with session.post(
            f"{hass.url}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as resp:
            tokens = await resp.json()
    return {
        **tokens,
        "hassUrl": hass.url,
        "clientId": client_id,
        "expires": int(time.time() * 1000) + tokens["expires_in"] * 1000,
    }


async def _wait_for_issue(hass: HassInstance, timeout: float = 60.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = [i for i in await _issues(hass) if i["translation_key"] == "interaction_conflict"]
        if found:
            return found[0]
        await asyncio.sleep(0.5)
    raise AssertionError("no interaction_conflict repair issue")


async def test_repairs_page_shows_the_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conflict is a repair issue; HA's repairs page lists it and its dialog explains it."""
    paths = chromium_paths()
    if paths is None:
        pytest.skip("chromium and chromedriver are not installed")
    monkeypatch.setattr(
        hass_module,
        "_CONFIGURATION",
        hass_module._CONFIGURATION + "automation: !include automations.yaml\n",
    )
    broker = await start_local_broker(port=free_port())
    hass = HassInstance(tmp_path / "hass", free_port())
    (tmp_path / "hass").mkdir()
    (tmp_path / "hass" / "automations.yaml").write_text(yaml.safe_dump(AUTOMATIONS))
    try:
        await hass.start()
        await hass.onboard()
        await hass.ensure_entry("mqtt", [{"broker": "127.0.0.1", "port": broker.port}])
        await hass.ensure_entry(
            "inspextor",
            [
                {"next_step_id": "site"},
                {"name": "Home", "base_topic": "inspextor", "site_map": SITE_MAP},
            ],
        )
        # The new entities change the registry: the analysis runs and finds the conflict.
        issue = await _wait_for_issue(hass)
        assert "[Hall motion: light on](/config/automation/edit/hall_motion_on)" in (
            issue["translation_placeholders"]["first"],
            issue["translation_placeholders"]["second"],
        )
        browser = await start_browser(*paths)
        try:
            await browser.get(f"{hass.url}/")
            tokens = json.dumps(await _browser_tokens(hass))
            await browser.script("localStorage.setItem('hassTokens', arguments[0])", tokens)
            await browser.get(f"{hass.url}/config/repairs")
            await browser.wait_for(FIND_TEXT, "fight over Kitchen light", timeout=90)
            shot = Path(os.environ.get("INSPEXTOR_SCREENSHOT", tmp_path / "repairs.png"))
            await browser.screenshot(shot)
            print(f"screenshot: {shot}")
            # The issue's dialog: both automations by alias with links, what collides.
            await browser.script(CLICK_TEXT, "fight over Kitchen light")
            await browser.wait_for(FIND_TEXT, "can run on the same event", timeout=30)
            dialog = shot.with_name(f"{shot.stem}-dialog{shot.suffix}")
            await browser.screenshot(dialog)
            print(f"screenshot: {dialog}")
        finally:
            await close_browser(browser)
    finally:
        await hass.stop()
        await broker.stop()
