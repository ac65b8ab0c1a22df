"""Command line: `serve` runs the dev cloud, `mobile` plays the mobile app."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from pathlib import Path
import signal
import ssl
import sys

import aiohttp
from aiohttp import web

from devkit.simulator.__main__ import parse_broker

from .http import build_app
from .mobile import MobileClient, format_entities
from .mobile_rules import KINDS, add_rule_parsers, format_rules, rule_body
from .service import ContractSpec, DevCloud

_LOGGER = logging.getLogger("devkit.devcloud")


def build_parser() -> argparse.ArgumentParser:
    """Both sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m devkit.devcloud")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the dev cloud")
    serve.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT")
    serve.add_argument("--ca-file", type=Path, help="TLS to the broker, trusting this CA")
    serve.add_argument("--cert-file", type=Path, help="client certificate (mutual TLS)")
    serve.add_argument("--key-file", type=Path, help="its private key")
    serve.add_argument("--db", type=Path, default=Path("devcloud.sqlite3"))
    serve.add_argument("--http-host", default="127.0.0.1")
    serve.add_argument("--http-port", type=int, default=8080)
    serve.add_argument("--prefix", default="inx")
    serve.add_argument(
        "--contract",
        action="append",
        default=[],
        type=ContractSpec.parse,
        metavar="C:INSTANCE:PASSWORD:STATE:YYYY-MM-DD",
    )

    mobile = sub.add_parser("mobile", help="the mobile app")
    mobile.add_argument("--url", default="http://127.0.0.1:8080")
    mobile.add_argument("--home", help="contract id (default: the first home)")
    actions = mobile.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the home's devices and their cloud-side state")
    send = actions.add_parser("send", help="send a command and print its results")
    send.add_argument("service")
    send.add_argument("entity_id")
    send.add_argument("--data", default="{}", type=json.loads)
    send.add_argument("--timeout", type=float, default=60.0)
    watch = actions.add_parser("watch", help="print command results as they arrive")
    watch.add_argument("--count", type=int, default=None, help="stop after N results")
    add_rule_parsers(actions)
    return parser


def tls_context(ca: Path | None, cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """TLS to the broker when a CA is given; mutual TLS with a certificate and key."""
    if ca is None:
        if cert is not None or key is not None:
            raise ValueError("--cert-file and --key-file need --ca-file")
        return None
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(str(cert), str(key) if key is not None else None)
    return context


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM."""
    host, port = parse_broker(args.broker)
    try:
        tls = tls_context(args.ca_file, args.cert_file, args.key_file)
    except (OSError, ssl.SSLError, ValueError) as err:
        print(f"cannot use the TLS files: {err}", file=sys.stderr)
        return 2
    cloud = DevCloud(host, port, args.db, args.prefix, tls=tls)
    await cloud.start(args.contract)
    runner = web.AppRunner(build_app(cloud))
    await runner.setup()
    await web.TCPSite(runner, args.http_host, args.http_port).start()
    print(f"READY http://{args.http_host}:{args.http_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await cloud.stop()
    return 0


async def mobile(args: argparse.Namespace) -> int:
    """One mobile-app action."""
    async with aiohttp.ClientSession() as session:
        client = MobileClient(session, args.url)
        if args.action == "watch":
            await client.watch(sys.stdout, args.count)
            return 0
        cid = await client.home(args.home)
        if args.action == "list":
            print(format_entities(await client.entities(cid)))
            return 0
        if args.action in KINDS:
            return await mobile_rule(client, cid, args)
        if not isinstance(args.data, dict):
            print("--data must be a JSON object", file=sys.stderr)
            return 2
        try:
            command = await client.send(cid, args.service, args.entity_id, args.data)
        except RuntimeError as err:
            print(f"refused: {err}", file=sys.stderr)
            return 1
        print(f"command {command['id']} sent", flush=True)
        final = await client.follow(command["id"], sys.stdout, args.timeout)
        if not final["final"]:
            print("no final result within the timeout", file=sys.stderr)
            return 1
        return 0 if final["results"][-1]["status"] == "succeeded" else 1


async def mobile_rule(client: MobileClient, cid: str, args: argparse.Namespace) -> int:
    """`rule ...` / `schedule ...`: list from the cloud's copy, or send and follow."""
    if args.rule_op == "list":
        print(format_rules((await client.rules(cid))["rules"], KINDS[args.action]))
        return 0
    try:
        command = await client.send_rule(cid, rule_body(args))
    except RuntimeError as err:
        print(f"refused: {err}", file=sys.stderr)
        return 1
    print(f"command {command['id']} sent", flush=True)
    final = await client.follow(command["id"], sys.stdout, 60.0)
    return 0 if final["final"] and final["results"][-1]["status"] == "succeeded" else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        return asyncio.run(serve(args))
    return asyncio.run(mobile(args))


if __name__ == "__main__":
    sys.exit(main())
