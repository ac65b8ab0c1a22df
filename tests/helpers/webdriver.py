"""A minimal W3C WebDriver client for headless Chromium through chromedriver.

Selenium's current releases need urllib3 2.x, which Home Assistant 2025.4 does not allow in
the same environment, so the browser test speaks the (small, standard) WebDriver HTTP
protocol itself with aiohttp.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import subprocess
import tempfile
from typing import Any

import aiohttp

from tests.helpers.mosquitto import free_port
from tests.helpers.polling import wait_for

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element identifier
# WebDriver errors for a click or keys it did not deliver: the element was covered (a
# dialog still animating open), re-rendered or gone since it was found, or not yet
# interactable.
NOT_DELIVERED = frozenset(
    {
        "element click intercepted",
        "stale element reference",
        "element not interactable",
        "no such element",
    }
)


class WebDriverError(RuntimeError):
    """A WebDriver command failed; `error` is the W3C error code."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


def chromium_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) when both are installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@dataclass
class Browser:
    """One headless Chromium session."""

    session: aiohttp.ClientSession
    base: str
    driver: subprocess.Popen[bytes]
    profile: Path

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.base}{path}", json=body) as resp:
            payload = await resp.json(content_type=None)
            if resp.status >= 400:
                value = payload.get("value") if isinstance(payload, dict) else None
                error = value.get("error", "") if isinstance(value, dict) else ""
                raise WebDriverError(f"webdriver {method} {path}: {payload}", str(error))
            return payload["value"]

    async def get(self, url: str) -> None:
        """Navigate."""
        await self._call("POST", "/url", {"url": url})

    async def find(self, css: str) -> str:
        """The element id of the first match for `css`."""
        value = await self._call("POST", "/element", {"using": "css selector", "value": css})
        if not isinstance(value, dict) or ELEMENT not in value:
            raise RuntimeError(f"webdriver found no element for {css!r}: {value}")
        return str(value[ELEMENT])

    async def click(self, element: str) -> None:
        """Click an element."""
        await self._call("POST", f"/element/{element}/click", {})

    async def element(self, script: str, *args: Any) -> str:
        """The element id of what a script returns (reaches into shadow roots, unlike CSS)."""
        value = await self.script(script, *args)
        if not isinstance(value, dict) or ELEMENT not in value:
            raise WebDriverError(f"script returned no element: {script}", "no such element")
        return str(value[ELEMENT])

    async def send_keys(self, element: str, text: str) -> None:
        """Type into an element as a user does (WebDriver key codes allowed)."""
        await self._call("POST", f"/element/{element}/value", {"text": text})

    async def script(self, script: str, *args: Any) -> Any:
        """Run JavaScript in the page and return its result."""
        return await self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    async def wait_for(self, script: str, *args: Any, timeout: float = 60.0) -> Any:
        """Poll a JavaScript expression (a `return ...` body) until it is truthy."""
        return await wait_for(
            lambda: self.script(script, *args), timeout, f"the page: {script}", 0.1
        )

    async def set_size(self, width: int, height: int) -> None:
        """Resize the window (a phone's 390 x 844, a desktop's 1200 x 900)."""
        await self._call("POST", "/window/rect", {"width": width, "height": height})

    async def screenshot(self, path: Path) -> None:
        """Save a PNG of the viewport."""
        path.write_bytes(base64.b64decode(await self._call("GET", "/screenshot")))


async def start_browser(browser_bin: str, driver_bin: str) -> Browser:
    """Start chromedriver and a headless Chromium session."""
    port = free_port()
    driver = subprocess.Popen(
        [driver_bin, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    root = f"http://127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60  # chromedriver starts slowly on a loaded host
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{root}/status") as resp:
                if resp.status == 200:
                    break
        if driver.poll() is not None or loop.time() > deadline:
            driver.kill()
            await session.close()
            raise RuntimeError(f"chromedriver did not answer on {root} (exit {driver.poll()})")
        await asyncio.sleep(0.1)
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1200,900",
    ]
    caps = {
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": browser_bin, "args": args},
            }
        }
    }
    async with session.post(f"{root}/session", json=caps) as resp:
        payload = await resp.json()
        if resp.status >= 400:
            driver.kill()
            await session.close()
            raise RuntimeError(f"chromedriver refused the session: {payload}")
    session_id = payload["value"]["sessionId"]
    return Browser(session, f"{root}/session/{session_id}", driver, profile)


async def close_browser(browser: Browser) -> None:
    """End the session and stop chromedriver."""
    try:
        await browser._call("DELETE", "")
    finally:
        await browser.session.close()
        browser.driver.terminate()
        browser.driver.wait(10)
        shutil.rmtree(browser.profile, ignore_errors=True)
