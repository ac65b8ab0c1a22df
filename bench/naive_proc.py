"""The naive forwarder as a process: HA WebSocket state_changed -> one MQTT publish each.

`NAIVE_HA_TOKEN=T python -m bench.naive_proc --ha-url ws://... --port 1883` — the baseline
whose memory benchmark 5 measures beside the bridge's. The token comes from the environment,
never argv: it is a secret (argv shows in `ps`), and a token that starts with "-" would be
read by argparse as an option.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import aiohttp

from bench.naive import NaiveForwarder

TOKEN_ENV = "NAIVE_HA_TOKEN"


async def forward(ha_url: str, token: str, port: int) -> None:
    """Run until killed."""
    forwarder = NaiveForwarder(port, "naive/home")
    forwarder.start()
    async with aiohttp.ClientSession() as session, session.ws_connect(ha_url) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise SystemExit("Home Assistant refused the token")
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            payload = json.loads(msg.data)
            for item in payload if isinstance(payload, list) else [payload]:
                if item.get("type") == "event":
                    data = item["event"]["data"]
                    forwarder.forward(data["entity_id"], data.get("new_state"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ha-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    token = os.environ.get(TOKEN_ENV)
    if not token:
        parser.error(f"set {TOKEN_ENV} to a Home Assistant access token")
    asyncio.run(forward(args.ha_url, token, args.port))


if __name__ == "__main__":
    main()
