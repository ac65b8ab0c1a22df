"""Drive Home Assistant's real frontend in headless Chromium: log in, read what a user reads.

HA's frontend is Web Components with nested shadow roots, which CSS selectors do not
cross: every lookup runs as JavaScript (`deep` walks every shadow root, `text` reads what
is rendered, slots included). Elements found that way are clicked and typed into through
WebDriver itself, as a user would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Any

from tests.helpers.webdriver import NOT_DELIVERED, Browser, WebDriverError

# Helpers defined in the page before each script.
PAGE_JS = r"""
const deep = (sel, root = document) => {
  const out = new Set();
  const walk = (n) => {
    if (n.shadowRoot) walk(n.shadowRoot);
    if (!n.querySelectorAll) return;
    for (const e of n.querySelectorAll(sel)) out.add(e);
    for (const e of n.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot);
  };
  walk(root);
  return [...out];
};
const text = (n) => {
  if (!n) return '';
  if (n.nodeType === 3) return n.textContent;
  if (n.nodeType !== 1 && n.nodeType !== 11) return '';
  if (n.tagName === 'STYLE' || n.tagName === 'SCRIPT') return '';
  if (n.shadowRoot) return text(n.shadowRoot);
  const kids = n.tagName === 'SLOT' ? n.assignedNodes({flatten: true}) : n.childNodes;
  let s = '';
  for (const c of kids) s += text(c) + ' ';
  return s;
};
const clean = (s) => s.replace(/\s+/g, ' ').trim();
const flowStep = () => deep(
  'step-flow-form, step-flow-menu, step-flow-abort, step-flow-create-entry'
)[0];
const flowDialog = () => {
  const step = flowStep();
  if (!step) return null;
  const r = step.shadowRoot;
  const fields = {};
  const form = deep('ha-form', step)[0];
  if (form) {
    for (const c of form.shadowRoot.querySelectorAll('*')) {
      if (!c.schema || !/^HA-(FORM-|SELECTOR)/.test(c.tagName)) continue;
      const before = c.previousElementSibling;
      fields[c.schema.name] = {
        error: before && before.tagName === 'HA-ALERT' ? clean(text(before)) : '',
        value: c.data === undefined ? null : c.data,
      };
    }
  }
  return {
    step: step.tagName.toLowerCase(),
    title: clean(text(r.querySelector('h2'))),
    description: clean(text(r.querySelector('ha-markdown'))),
    menu: [...r.querySelectorAll('mwc-list-item, ha-md-list-item')].map((e) => clean(text(e))),
    fields,
    text: clean(text(r)),
  };
};
"""

# What must never reach a user: raw translation keys, unfilled placeholders.
RAW_KEY = re.compile(r"component\.inspextor\.|\[%key:|\{[a-z_]+\}|ui\.panel\.")
REPEATED_WORD = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)


@dataclass
class HaFrontend:
    """One logged-in browser on a hass, keeping a screenshot of every screen it checks."""

    browser: Browser
    url: str
    shots: Path
    taken: list[Path] = field(default_factory=list)

    async def js(self, body: str, *args: Any) -> Any:
        """Run `body` (a function body using the page helpers) and return its result."""
        return await self.browser.script(PAGE_JS + body, *args)

    async def until(self, body: str, *args: Any, timeout: float = 90.0, shoot: bool = True) -> Any:
        """Poll `body` until it returns something truthy (the frontend is slow here)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                value = await self.js(body, *args)
            except RuntimeError:
                value = None  # the page is navigating
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                if shoot:
                    await self.shot("timeout")
                raise TimeoutError(f"the page never satisfied: {body}")
            await asyncio.sleep(0.3)

    async def click(self, body: str, *args: Any) -> None:
        """Click what `body` returns (waiting until it exists)."""
        await self._deliver(body, args, self.browser.click)

    async def type(self, body: str, keys: str, *args: Any) -> None:
        """Type into what `body` returns."""
        await self._deliver(body, args, lambda element: self.browser.send_keys(element, keys))

    async def _deliver(
        self, body: str, args: tuple[Any, ...], act: Callable[[str], Awaitable[None]]
    ) -> None:
        """Find the element and act on it. A click or keys WebDriver did not deliver (the
        element was still covered by an opening dialog, or re-rendered since it was found)
        had no effect on the page: find the element again and retry, up to a deadline."""
        deadline = asyncio.get_running_loop().time() + 90.0
        while True:
            await self.until(body, *args)
            try:
                await act(await self.browser.element(PAGE_JS + body, *args))
                return
            except WebDriverError as err:
                if err.error not in NOT_DELIVERED:
                    raise
                if asyncio.get_running_loop().time() > deadline:
                    await self.shot("not-delivered")
                    raise
            await asyncio.sleep(0.3)

    async def shot(self, name: str) -> Path:
        """Keep a PNG of the screen."""
        path = self.shots / f"{len(self.taken) + 1:02d}-{name}.png"
        await self.browser.screenshot(path)
        self.taken.append(path)
        return path

    async def open(self, path: str, ready: str, *args: Any) -> None:
        """Navigate inside the app and wait until `ready` holds."""
        await self.browser.get(self.url + path)
        await self.until(ready, *args)

    async def login(self, username: str, password: str) -> None:
        """HA's own login form."""
        await self.browser.get(self.url + "/")
        user = "return deep('input[name=username]')[0]"
        await self.type(user, username)
        await self.type("return deep('input[name=password]')[0]", password)
        await self.click(
            "return deep('mwc-button, ha-button').find(b => /log in/i.test(b.textContent))"
        )
        await self.until(
            "const ha = document.querySelector('home-assistant');"
            "return ha && ha.hass && ha.hass.connected && !location.pathname.startsWith('/auth')"
        )

    async def page_text(self) -> str:
        """Everything rendered, in reading order."""
        return str(await self.js("return clean(text(document.body))"))

    async def flow(self, step: str) -> dict[str, Any]:
        """The open dialog once it shows `step` (step-flow-form, step-flow-menu...).

        Its description is markdown, rendered by a worker after the title: wait for both.
        """
        shown = await self.until(
            "const d = flowDialog();"
            "return d && d.step === arguments[0] && d.title && d.description ? d : null",
            step,
        )
        return dict(shown)

    async def open_flow(self, button: str, step: str, tries: int = 3) -> dict[str, Any]:
        """Click `button` and return the dialog it opens; click again if none opens or the
        one that opened vanishes (on a loaded machine the frontend's history handling of
        the dialog closed just before can close the next one too)."""
        for attempt in range(tries):
            last = attempt == tries - 1
            await self.click(button)
            try:
                await self.until("return flowStep()", timeout=90.0 if last else 30.0, shoot=last)
            except TimeoutError:
                continue
            shown = await self.until(
                "const d = flowDialog(); if (!d) return 'gone';"
                "return d.step === arguments[0] && d.title && d.description ? d : null",
                step,
            )
            if shown != "gone":
                return dict(shown)
            await self._dialog_gone()
        raise TimeoutError(f"no dialog stayed open from {button}")

    async def close_dialog(self) -> None:
        """Close the flow dialog (the frontend ends the flow) and wait until it is gone."""
        await self.js("deep('dialog-data-entry-flow')[0].closeDialog()")
        await self._dialog_gone()

    async def _dialog_gone(self) -> None:
        """No dialog shown, and the frontend has stepped back out of the dialog's history
        entry (it does so after the dialog closes; a dialog opened before that is shut)."""
        await self.until(
            "return !flowStep() && !deep('ha-dialog[open]').length"
            " && !(history.state && history.state.dialog)"
        )
        await asyncio.sleep(0.5)
