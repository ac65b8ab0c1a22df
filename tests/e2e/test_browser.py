"""The dev cloud page in headless Chromium: a click switches the simulated light."""

from __future__ import annotations

import pytest

from devkit.devstack.stack import Stack
from tests.e2e.conftest import cloud_entity, payload_value
from tests.helpers.webdriver import chromium_paths, close_browser, start_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

ROW = '[data-entity-id="light.kitchen_light"]'


async def test_click_switches_light_on_page_and_device(
    stack: Stack, site_observer_factory, tmp_path
) -> None:
    """Clicking the kitchen light's switch changes the device and the page, no reload."""
    paths = chromium_paths()
    if paths is None:
        pytest.skip("chromium and chromedriver are not installed")
    seen = site_observer_factory(stack.config.site_port, "inspextor/b5ea3f/42/M/status")
    browser = await start_browser(*paths)
    try:
        await browser.get(stack.devcloud_url + "/")
        await browser.wait_for(
            "return document.querySelector(arguments[0]) !== null", ROW, timeout=60
        )
        before = await browser.script(
            "return document.querySelector(arguments[0]).dataset.state", ROW
        )
        want = "off" if before == "on" else "on"
        await browser.script("window.__notReloaded = true")
        await browser.click(await browser.find(f"{ROW} button.toggle"))
        await browser.wait_for(
            "return document.querySelector(arguments[0]).dataset.state === arguments[1]",
            ROW,
            want,
            timeout=60,
        )
        assert await browser.script("return window.__notReloaded === true")
        await browser.screenshot(tmp_path / "devcloud-page.png")
        print(f"screenshot: {tmp_path / 'devcloud-page.png'}")
    finally:
        await close_browser(browser)
    # The simulated device itself changed: its last status matches the page.
    last = payload_value(seen.matching("inspextor/b5ea3f/42/M/status")[-1][1])
    assert (last > 0) == (want == "on")
    entity = await cloud_entity(stack, "light.kitchen_light")
    assert entity is not None
    assert entity["state"] == want
