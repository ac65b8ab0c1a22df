"""Config flows through HA's API that may open with a menu (the InspeXtor flow asks
"site or bridge" first). cloud_bridge.devstack's `ensure_entry` expects forms only."""

from __future__ import annotations

from typing import Any

import aiohttp

from cloud_bridge.devstack.hass import HassError, HassInstance

MENU_CHOICES = {"inspextor": "site"}


class MenuAwareHass(HassInstance):
    """A HassInstance whose `ensure_entry` also walks menu steps."""

    async def ensure_entry(self, domain: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
        existing = await self.config_entries(domain)
        if existing:
            return existing[0]
        assert self.credentials is not None
        token = self.credentials.token
        pending = list(steps)
        async with aiohttp.ClientSession() as session:
            result = await self._post_json(
                session,
                "/api/config/config_entries/flow",
                {"handler": domain, "show_advanced_options": False},
                token,
            )
            while result.get("type") in ("form", "menu"):
                if result.get("type") == "menu":
                    choice = MENU_CHOICES.get(domain)
                    if choice not in (result.get("menu_options") or []):
                        raise HassError(f"{domain} flow shows a menu without {choice!r}")
                    user_input: dict[str, Any] = {"next_step_id": choice}
                elif result.get("errors"):
                    raise HassError(f"{domain} flow refused input: {result['errors']}")
                elif not pending:
                    break
                else:
                    user_input = pending.pop(0)
                result = await self._post_json(
                    session,
                    f"/api/config/config_entries/flow/{result['flow_id']}",
                    user_input,
                    token,
                )
        if result.get("type") != "create_entry":
            raise HassError(f"{domain} flow did not create an entry: {result}")
        return dict(result["result"])
