"""The dev cloud page's store channel box in headless Chromium: a command file typed and
put from the page runs in the home, and its result file shows on the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.devstack.stack import Stack
from tests.helpers.webdriver import chromium_paths, close_browser, start_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

COMMANDS = "get_status()\ncall_service('light.turn_on', 'light.kitchen_light', {'brightness': 42})"


async def test_a_command_file_put_from_the_page_shows_its_result(
    stack: Stack, tmp_path: Path
) -> None:
    paths = chromium_paths()
    if paths is None:
        pytest.skip("chromium and chromedriver are not installed")
    browser = await start_browser(*paths)
    try:
        await browser.get(stack.devcloud_url + "/")
        await browser.wait_for("return !document.getElementById('store').hidden", timeout=60)
        await browser.script(
            "document.getElementById('store-commands').value = arguments[0]", COMMANDS
        )
        await browser.click(await browser.find("#store-send"))
        # the page shows this file's result: its version is the one the page put
        await browser.wait_for(
            "const sent = document.getElementById('store-sent').textContent.slice(4);"
            "const head = document.querySelector('#store-results tr td.result');"
            "return sent.length === 12 && head !== null && head.textContent === sent",
            timeout=30,
        )
        statuses = await browser.script(
            "return [...document.querySelectorAll('#store-results [data-command-status]')]"
            ".map(tr => tr.dataset.commandStatus)"
        )
        shown = await browser.script(
            "return [...document.querySelectorAll('#store-results td.name')]"
            ".map(td => td.textContent)"
        )
        await browser.screenshot(tmp_path / "devcloud-store.png")
        print(f"screenshot: {tmp_path / 'devcloud-store.png'}")
    finally:
        await close_browser(browser)
    assert shown == COMMANDS.split("\n")
    assert statuses == ["ok", "ok"]
