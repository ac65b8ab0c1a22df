"""Interactions and schedules on the dev cloud page in headless Chromium, desktop and phone.

A schedule made on the page opens the bedroom shade a minute later; a conflicting
interaction is refused with the reason on the page; at 390 x 844 nothing scrolls sideways
and every control is on screen and at least 44 px high. A screenshot of each size.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.devstack.stack import Stack
from tests.e2e.conftest import LIGHT, USER_ALIAS, command_until_final
from tests.e2e.test_rules import SHADE
from tests.helpers.webdriver import Browser, chromium_paths, close_browser, start_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

FILL = """
const form = document.getElementById("rule-form");
const values = arguments[0];
form.kind.value = values.kind; form.kind.onchange();
for (const [name, value] of Object.entries(values)) {
  if (name === "force") form.force.checked = value; else form[name].value = value;
}
return true;
"""
LAYOUT = """
const width = window.innerWidth;
const problems = [];
if (document.documentElement.scrollWidth > width) problems.push("scrolls sideways");
for (const c of document.querySelectorAll("button, input, select, textarea")) {
  const r = c.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;  // hidden
  if (r.left < 0 || r.right > width + 0.5) problems.push(c.outerHTML.slice(0, 60) + " off screen");
  if (r.height < 44) problems.push(c.outerHTML.slice(0, 60) + " " + r.height + "px high");
}
return problems;
"""


async def _fill_and_save(browser: Browser, values: dict[str, Any]) -> str:
    await browser.script(
        "document.getElementById('rule-new').click(); "
        "document.getElementById('rule-result').dataset.status = ''; return true"
    )
    await browser.script(FILL, values)
    await browser.click(await browser.find("#rule-save"))
    return str(
        await browser.wait_for(
            "const s = document.getElementById('rule-result').dataset.status;"
            "return ['succeeded', 'rejected', 'failed'].includes(s) && s",
            timeout=45,
        )
    )


async def test_rules_on_the_page_at_desktop_and_phone_size(
    stack: Stack,
    motion: str,
    tmp_path: Path,
) -> None:
    paths = chromium_paths()
    if paths is None:
        pytest.skip("chromium and chromedriver are not installed")
    closed = await command_until_final(stack, "cover.close_cover", SHADE, {})
    assert closed["results"][-1]["status"] == "succeeded", closed
    browser = await start_browser(*paths)
    try:
        await browser.set_size(1200, 900)
        await browser.get(stack.devcloud_url + "/")
        await browser.wait_for(
            "return document.querySelector('#rule-form select[name=target] option') !== null",
            timeout=60,
        )
        at = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%H:%M:%S")
        status = await _fill_and_save(
            browser,
            {
                "kind": "schedule",
                "rule_id": "page_shade",
                "name": "Shade in a minute",
                "at": at,
                "service": "cover.open_cover",
                "target": SHADE,
            },
        )
        assert status == "succeeded"
        await browser.wait_for(
            "return document.querySelector('[data-rule-id=page_shade]') !== null", timeout=60
        )
        await browser.screenshot(tmp_path / "rules-desktop.png")

        await browser.set_size(390, 844)
        assert await browser.script("return window.innerWidth") <= 400
        assert await browser.script(LAYOUT) == []
        status = await _fill_and_save(
            browser,
            {
                "kind": "interaction",
                "rule_id": "page_hall",
                "name": "Hall lights the kitchen",
                "when_entity": motion,
                "when_state": "on",
                "service": "light.turn_on",
                "target": LIGHT,
            },
        )
        assert status == "rejected"
        reason = await browser.script("return document.getElementById('rule-result').textContent")
        assert f'conflicts with "{USER_ALIAS}" on {LIGHT}' in reason
        refusal = await browser.wait_for(
            "const r = document.querySelector('[data-rule-id=page_hall] .refusal');"
            "return r && r.textContent",
            timeout=60,
        )
        assert USER_ALIAS in refusal
        assert await browser.script(LAYOUT) == []
        shade = f'[data-entity-id="{SHADE}"]'
        await browser.wait_for(  # the schedule runs: the page shows the shade open
            "const row = document.querySelector(arguments[0]);"
            "return row && row.dataset.state === 'open'",
            shade,
            timeout=120,
        )
        await browser.screenshot(tmp_path / "rules-phone.png")
        print(f"screenshots: {tmp_path / 'rules-desktop.png'}, {tmp_path / 'rules-phone.png'}")
        await browser.click(await browser.find("[data-rule-id=page_shade] button.delete"))
        await browser.wait_for(
            "return document.querySelector('[data-rule-id=page_shade] button.delete') === null",
            timeout=30,
        )
    finally:
        await close_browser(browser)
