"""Command line: `serve` runs the dev cloud, `mobile` plays the mobile app, `fleet` runs
AWS IoT fleet provisioning on a mutual-TLS Mosquitto (zero-touch bridges)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
import signal
import ssl
import sys

import aiohttp
from aiohttp import web

from cloud_bridge.store_channel.backend import ObjectStore
from cloud_bridge.store_channel.settings import (
    ChannelSettings,
    make_backends,
    parse_store_configuration,
)
from cloud_bridge.store_channel.sigv4 import Credentials
from devkit.simulator.__main__ import parse_broker

from .fleet_stack import fleet_stack
from .http import build_app
from .mobile import MobileClient, format_entities, format_store_result
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

    serve.add_argument(
        "--store-folder", type=Path, help="serve the store channel on this folder backend"
    )
    serve.add_argument(
        "--store-s3",
        action="store_true",
        help="serve the store channel on S3 (STORE_CONFIGURATION, AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT, S3_STORE_CUSTOM_HTTP_SCHEME)",
    )
    serve.add_argument("--store-service", default="inspextor")
    fleet = sub.add_parser("fleet", help="fleet provisioning on a mutual-TLS Mosquitto")
    fleet.add_argument("--dir", type=Path, required=True, help="folder for the CA and policy")
    fleet.add_argument("--port", type=int, default=8883)
    fleet.add_argument("--template", action="append", default=[], help="template name(s)")
    fleet.add_argument("--cert-days", type=float, default=365)
    fleet.add_argument("--prefix", default="inx")

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
    store = actions.add_parser("store", help="the store channel: command files and results")
    store_actions = store.add_subparsers(dest="store_action", required=True)
    store_send = store_actions.add_parser("send", help="put a command file, print its result")
    store_send.add_argument("commands", nargs="+", help='e.g. "get_status()"')
    store_send.add_argument("--timeout", type=float, default=120.0)
    store_actions.add_parser("results", help="print the last result file")
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


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


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
    stores = store_backends(args, dict(os.environ))
    if stores is not None:
        cloud.attach_stores(stores, args.store_service)
    runner = web.AppRunner(build_app(cloud))
    await runner.setup()
    await web.TCPSite(runner, args.http_host, args.http_port).start()
    print(f"READY http://{args.http_host}:{args.http_port}", flush=True)
    await until_signalled()
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
        if args.action == "store":
            return await store_action(client, cid, args)
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


async def store_action(client: MobileClient, cid: str, args: argparse.Namespace) -> int:
    """`store send` and `store results`."""
    if args.store_action == "results":
        result = await client.store_results(cid)
        print(format_store_result(result) if result else "(no result yet)")
        return 0 if result else 1
    try:
        sent = await client.store_send(cid, list(args.commands))
    except RuntimeError as err:
        print(f"refused: {err}", file=sys.stderr)
        return 1
    print(f"command file {sent['version'][:12]} put", flush=True)
    result = await client.wait_store_result(cid, sent["version"], args.timeout)
    if result is None:
        print("no result within the timeout", file=sys.stderr)
        return 1
    print(format_store_result(result))
    return 0 if result["general_status"] == "ok" else 1


def store_backends(args: argparse.Namespace, env: dict[str, str]) -> dict[str, ObjectStore] | None:
    """The dev cloud's stores: a folder, or S3 from the source's environment variables."""
    if args.store_folder is None and not args.store_s3:
        return None
    credentials = None
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    settings = ChannelSettings(
        backend="s3" if args.store_s3 else "folder",
        specs=tuple(parse_store_configuration(env.get("STORE_CONFIGURATION", ""))),
        folder=args.store_folder or Path("."),
        service=args.store_service,
        poll_interval=60.0,
        status_interval=0.0,
        default_ttl=86400.0,
        credentials=credentials,
        endpoint=env.get("S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT") or None,
        scheme=env.get("S3_STORE_CUSTOM_HTTP_SCHEME", "https"),
    )
    return make_backends(settings)


async def fleet(args: argparse.Namespace) -> int:
    """Run the fleet stack until SIGINT/SIGTERM; print where its files are."""
    args.dir.mkdir(parents=True, exist_ok=True)
    templates = frozenset(args.template or ["inspextor-fleet"])
    async with fleet_stack(
        args.dir,
        port=args.port,
        templates=templates,
        cert_days=args.cert_days,
        prefix=args.prefix,
    ) as stack:
        print(
            f"READY mqtts://localhost:{stack.broker.port} ca_file={stack.ca_file} "
            f"claim_cert_file={stack.claim_cert} claim_key_file={stack.claim_key} "
            f"templates={','.join(sorted(templates))}",
            flush=True,
        )
        await until_signalled()
    return 0


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
    if args.command == "fleet":
        return asyncio.run(fleet(args))
    return asyncio.run(mobile(args))


if __name__ == "__main__":
    sys.exit(main())
