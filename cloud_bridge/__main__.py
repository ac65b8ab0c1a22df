"""`python -m cloud_bridge run|activate|deregister|ping|resync|rotate|status [--config PATH]`.

Exit codes:
  0  done
  1  the local API refused the call or could not be reached (is the bridge running?)
  2  bad configuration
  3  the cloud refused the action (e.g. activation of an expired contract, a failed
     certificate rotation)
  4  not connected to the cloud: the request never reached it
  5  the request was sent but the cloud never answered
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import sys
from typing import Any

import aiohttp

from cloud_bridge.config import BridgeConfig, ConfigError, ensure_api_token, load_config

ACTIONS: dict[str, tuple[str, str]] = {
    "status": ("GET", "/api/status"),
    "activate": ("POST", "/api/activate"),
    "deregister": ("POST", "/api/deregister"),
    "ping": ("POST", "/api/ping"),
    "resync": ("POST", "/api/resync"),
    "rotate": ("POST", "/api/certificate/rotate"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloud_bridge",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["run", *ACTIONS])
    parser.add_argument("--config", type=Path, default=None, help="JSON or YAML options file")
    return parser


async def call_api(config: BridgeConfig, token: str, action: str) -> tuple[int, Any]:
    """Call a running bridge's local API."""
    method, path = ACTIONS[action]
    host = "127.0.0.1" if config.api_host in ("0.0.0.0", "::") else config.api_host  # noqa: S104
    url = f"http://{host}:{config.api_port}{path}"
    timeout = aiohttp.ClientTimeout(total=config.activation_timeout * 4 + 10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as err:
        for line in err.errors:
            print(f"config error: {line}", file=sys.stderr)
        return 2
    if args.command == "run":
        from cloud_bridge.app import run  # noqa: PLC0415 - only the daemon needs it

        asyncio.run(run(config))
        return 0
    try:
        token = ensure_api_token(config)
        status, body = asyncio.run(call_api(config, token, args.command))
    except (OSError, aiohttp.ClientError) as err:
        print(f"cannot reach the bridge's local API: {err}", file=sys.stderr)
        return 1
    print(json.dumps(body, indent=2))
    return exit_code(status, body)


EXIT_FAILED = {"refused": 3, "not_connected": 4, "no_reply": 5}


def exit_code(status: int, body: Any) -> int:
    """0 only when the action worked: an activation the cloud refused is a failure too."""
    if status >= 400:
        return 1
    if isinstance(body, dict) and body.get("success") is False:
        return EXIT_FAILED.get(str(body.get("code")), 3)
    if isinstance(body, dict) and body.get("ok") is False:  # a failed rotation
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
