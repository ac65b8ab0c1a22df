"""`python -m devkit.devstack demo`: the whole system, local, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
import signal
import sys

from devkit.devstack.demo_rules import add_demo_rules
from devkit.devstack.hass import HassError
from devkit.devstack.stack import Stack, StackConfig, StackError

_LOGGER = logging.getLogger("devkit.devstack")

# The cloud may control the demo's lights and shade; sensors stay private (default-deny).
EXPOSED_DOMAINS = ("light", "cover")


async def expose_controllables(stack: Stack) -> list[str]:
    """Allow the cloud to control the demo's lights and shade, nothing else (HA's options)."""
    assert stack.hass is not None
    entities: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not entities and loop.time() < deadline:
        states = await stack.hass.all_states()
        entities = sorted(
            s["entity_id"] for s in states if s["entity_id"].split(".")[0] in EXPOSED_DOMAINS
        )
        if not entities:
            await asyncio.sleep(0.5)
    # Through the bridge entry's options in Home Assistant, the allow-list's source of truth.
    await stack.set_exposure(entities)
    return entities


async def demo(workdir: Path) -> int:
    """Start everything, activate the home, print where to look, wait for Ctrl-C."""
    stack = Stack(StackConfig(workdir=workdir))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print("Starting brokers, simulator, Home Assistant, dev cloud and bridge…", flush=True)
        await stack.start()
        exposed = await expose_controllables(stack)
        status, result = await stack.bridge_api("POST", "/api/activate")
        rules = await add_demo_rules(stack.devcloud_url, stack.config.contract_id)
        assert stack.hass is not None
        assert stack.hass.credentials is not None
        creds = stack.hass.credentials
        print(
            "\nInspeXtor demo is running.\n"
            f"  Home Assistant  {stack.hass.url}   login: {creds.username} / {creds.password}\n"
            f"  Dev cloud page  {stack.devcloud_url}\n"
            f"  Bridge API      {stack.bridge_url}/api/status  (Bearer token in "
            f"{workdir / 'secrets.json'})\n"
            f"  Activation      HTTP {status}: {result}\n"
            f"  Cloud may control: {', '.join(exposed)}\n"
            "                  (chosen in HA: the InspeXtor cloud bridge entry's options)\n"
            f"  things_sync     controller pi-garden on 127.0.0.2:{stack.config.things_port} "
            '(UDP, no broker), entry "Demo things_sync"\n'
            f"  Cloud rules     {'; '.join(rules)}\n"
            f"                  (.venv/bin/python -m devkit.devcloud mobile --url "
            f"{stack.devcloud_url} schedule list)\n"
            f"  Mobile app      .venv/bin/python -m devkit.devcloud mobile "
            f"--url {stack.devcloud_url} list\n"
            f"  Store channel   .venv/bin/python -m devkit.devcloud mobile "
            f"--url {stack.devcloud_url} store send 'get_status()'\n"
            f"  Logs            {stack.logs}/ and {stack.hass.log_file}\n"
            "Press Ctrl-C to stop everything.",
            flush=True,
        )
        await stop.wait()
        print("\nStopping…", flush=True)
    except (StackError, HassError) as err:
        print(f"demo failed: {err}", file=sys.stderr)
        return 1
    finally:
        await stack.stop()
    print("Stopped; no process left behind.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m devkit.devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("demo", help="run the whole system locally until Ctrl-C")
    run.add_argument("--workdir", type=Path, default=Path(".demo"))
    run.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(demo(args.workdir.resolve()))
    return 130


if __name__ == "__main__":
    sys.exit(main())
