"""What a user reads in Home Assistant's own UI, driven in headless Chromium.

Logs in through HA's login form, opens the InspeXtor integration page, every Configure
dialog (one per entry kind), the add-integration site form (a taken topic, an invalid
map), a device page of every kind and the bridge's device page, and checks what is
written there. Every screen is kept as a PNG under the test's tmp folder (its path is
printed); with HA_UI_SCREENSHOTS=docs/images three of them are copied there for the README.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import shutil
from typing import Any

import pytest

from devkit.devstack.demo_things import THINGS_TITLE
from devkit.devstack.stack import Stack
from tests.e2e.ha_frontend import RAW_KEY, REPEATED_WORD, HaFrontend
from tests.helpers.webdriver import chromium_paths, close_browser, start_browser

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

INTEGRATION = "/config/integrations/integration/inspextor"
ROWS = "return deep('ha-md-list-item.config_entry, ha-integration-list-item')"
MODELS = {
    "Kitchen light": "Dimmable light",
    "Living room strip": "RGBW light",
    "Bedroom shade": "Shade",
    "Hall motion": "Motion sensor",
    "Office multisensor": "Steinel multisensor",
    "Office ozone": "Ozone sensor",
}
BAD_MAP = "devices: {a/1: {kind: toaster}, a/2: {name: B, kind: light, colour: red}}"
README_SHOTS = {
    "integration": "ha-integration.png",
    "device-office-multisensor": "ha-device.png",
    "bridge-device": "ha-bridge-device.png",
}


def _configure_button(title: str) -> str:
    return (
        "const row = deep('ha-md-list-item.config_entry')"
        f".find(r => clean(text(r)).startsWith({title!r}));"
        "return row && deep('ha-button, mwc-button', row)"
        ".find(b => /configure/i.test(b.textContent));"
    )


async def _readable(ui: HaFrontend, name: str) -> str:
    """Screenshot the screen; nothing on it is a raw key or an unfilled placeholder."""
    await ui.shot(name)
    shown = await ui.page_text()
    assert not RAW_KEY.search(shown), (name, RAW_KEY.search(shown))
    return shown


async def _options_dialogs(ui: HaFrontend) -> None:
    await ui.open(INTEGRATION, ROWS + ".length >= 3")
    shown = await _readable(ui, "integration")
    assert "Demo home" in shown
    assert "InspeXtor cloud bridge" in shown
    site = await ui.open_flow(_configure_button("Demo home"), "step-flow-form")
    await _readable(ui, "site-options")
    assert site["title"] == "InspeXtor site options"
    assert "site map" in site["description"]
    assert {"site_map", "command_timeout", "retries"} <= set(site["fields"])
    await ui.close_dialog()
    things = await ui.open_flow(_configure_button(THINGS_TITLE), "step-flow-form")
    await _readable(ui, "things-options")
    assert things["title"] == "things_sync site file"
    await ui.close_dialog()
    bridge = await ui.open_flow(_configure_button("InspeXtor cloud bridge"), "step-flow-menu")
    await _readable(ui, "bridge-options")
    assert bridge["title"] == "InspeXtor cloud bridge options"
    assert "site" not in bridge["description"]
    assert bridge["menu"] == [
        "Choose what the cloud may control",
        "Deregister this home from the cloud",
    ]
    await ui.click("return deep('mwc-list-item, ha-md-list-item', flowStep())[0]")
    await ui.flow("step-flow-form")
    await ui.until(
        "return clean(text(flowStep().shadowRoot)).includes(arguments[0])",
        "Kitchen light (light.kitchen_light)",
    )
    exposure = await ui.flow("step-flow-form")
    await _readable(ui, "exposure")
    assert "Kitchen light (light.kitchen_light)" in exposure["text"]
    assert "Bedroom shade (cover.bedroom_shade)" in exposure["text"]
    assert "Backup" not in exposure["text"]
    # sensors only as InspeXtor's own, each marked as usable by cloud rules alone
    offered = re.findall(r"\((?:binary_)?sensor\.[a-z0-9_]+\)(, for rules only)?", exposure["text"])
    assert offered
    assert all(marked for marked in offered), offered
    await ui.close_dialog()


async def _site_form(ui: HaFrontend) -> None:
    menu = await ui.open_flow(
        "return deep('ha-button, mwc-button').find(b => /add hub|add entry/i.test(b.textContent))",
        "step-flow-menu",
    )
    assert menu["title"] == "Add InspeXtor"
    await ui.click("return deep('mwc-list-item, ha-md-list-item', flowStep())[0]")
    form = await ui.flow("step-flow-form")
    assert form["title"] == "Set up an InspeXtor site"
    assert form["fields"]["base_topic"]["value"] == "inspextor2"  # not the demo's topic
    assert "name: Kitchen light" in form["text"]  # the site map's example
    topic = (
        "return deep('ha-textfield', flowStep()).find(e => e.label === 'Base topic')"
        ".shadowRoot.querySelector('input')"
    )
    await ui.type(topic, "\ue009a\ue000inspextor")  # select all, type the taken topic
    await ui.type("return deep('.cm-content', flowStep())[0]", BAD_MAP)
    await ui.click(
        "return deep('ha-button, mwc-button', flowStep()).find(b => /submit/i.test(b.textContent))"
    )
    await ui.until(
        "const d = flowDialog(); return d && d.fields.base_topic && d.fields.base_topic.error"
    )
    form = await ui.flow("step-flow-form")
    await _readable(ui, "site-form-errors")
    fields = form["fields"]
    assert fields["base_topic"]["error"].startswith(
        "The site “Demo home” already uses this base topic"
    )
    assert fields["site_map"]["error"].startswith("The site map has 3 problems:")
    assert "a/2: unknown field 'colour'" in fields["site_map"]["error"]
    assert fields["name"]["error"] == ""
    assert fields["name"]["value"] == "InspeXtor"  # what was typed is kept
    await ui.close_dialog()


async def _devices(ui: HaFrontend) -> dict[str, dict[str, Any]]:
    devices = await ui.until(
        "const h = document.querySelector('home-assistant').hass;"
        "const ours = Object.values(h.devices).filter(d => d.manufacturer === 'InspeXtor');"
        "return ours.length >= 8 && Object.fromEntries(ours.map(d => [d.name,"
        " {id: d.id, model: d.model, names: Object.values(h.entities)"
        ".filter(e => e.device_id === d.id)"
        ".map(e => h.states[e.entity_id] && h.states[e.entity_id].attributes.friendly_name)}]))"
    )
    return dict(devices)


async def _device_page(
    ui: HaFrontend, name: str, device: dict[str, Any], shot: str, show: str = ""
) -> str:
    await ui.open(
        f"/config/devices/device/{device['id']}",
        "return clean(text(document.body)).includes(arguments[0] + ' by InspeXtor')",
        device["model"],
    )
    if show:  # bring the card that holds `show` into the screenshot
        await ui.until(
            "const card = deep('ha-card').find(c => clean(text(c)).includes(arguments[0]));"
            "if (card) card.scrollIntoView({block: 'center'}); return card !== undefined",
            show,
        )
    shown = await _readable(ui, shot)
    for entity_name in device["names"]:
        assert entity_name, name
        assert not REPEATED_WORD.search(entity_name), (name, entity_name)
    return shown


async def _device_pages(ui: HaFrontend) -> None:
    devices = await _devices(ui)
    assert {name: devices[name]["model"] for name in MODELS} == MODELS
    assert devices["Office ozone"]["names"] == ["Office ozone"]
    for name, model in MODELS.items():
        shown = await _device_page(
            ui, name, devices[name], "device-" + name.lower().replace(" ", "-")
        )
        assert f"{model} by InspeXtor" in shown
    bridge = await _device_page(
        ui,
        "InspeXtor cloud bridge",
        devices["InspeXtor cloud bridge"],
        "bridge-device",
        show="Queued state changes",
    )
    for words in (
        "Queued state changes",
        "Queued sensor readings",
        "Readings dropped while offline",
    ):
        assert words in bridge, words
    assert "Outbox" not in bridge
    assert "Dropped low priority" not in bridge


def _publish(ui: HaFrontend) -> None:
    print(f"screenshots: {ui.shots}")
    target = os.environ.get("HA_UI_SCREENSHOTS")
    if not target:
        return
    for shot in ui.taken:
        for name, file in README_SHOTS.items():
            if shot.stem.endswith("-" + name):
                shutil.copyfile(shot, Path(target) / file)


async def test_what_a_user_reads_in_home_assistant(stack: Stack, tmp_path: Path) -> None:
    """Dialog titles per entry kind, field errors, names and models, no raw keys."""
    paths = chromium_paths()
    if paths is None:
        pytest.skip("chromium and chromedriver are not installed")
    assert stack.hass is not None
    assert stack.hass.credentials is not None
    browser = await start_browser(*paths)
    shots = tmp_path / "ha-ui"
    shots.mkdir()
    ui = HaFrontend(browser, stack.hass_url, shots)
    try:
        await ui.login(stack.hass.credentials.username, stack.hass.credentials.password)
        await _readable(ui, "overview")
        await _options_dialogs(ui)
        await _site_form(ui)
        await _device_pages(ui)
    finally:
        _publish(ui)
        await close_browser(browser)
