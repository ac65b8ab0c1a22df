"""Command line: run a simulated fleet until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
import signal
import sys

from .device import SimConfig
from .fleet import Fleet
from .site_file import SimDeviceSpec, dump_site_map, generate_fleet, load_site_map

_LOGGER = logging.getLogger("devkit.simulator")


def parse_broker(text: str) -> tuple[str, int]:
    """HOST:PORT (port defaults to 1883)."""
    host, _, port = text.rpartition(":")
    if not host:
        return text, 1883
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    """The simulator's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m devkit.simulator", description="Simulated InspeXtor devices"
    )
    parser.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT")
    parser.add_argument("--base", default="inspextor", help="base topic")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--site-map", type=Path, help="site map file (YAML or JSON)")
    source.add_argument("--generate", type=int, metavar="N", help="generate a mixed fleet")
    parser.add_argument(
        "--write-site-map", type=Path, help="with --generate: write the site map here"
    )
    parser.add_argument("--announce", action="store_true", help="publish retained announce")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--confirm-delay", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--sensor-interval", type=float, default=30.0)
    parser.add_argument("--motion-interval", type=float, default=60.0)
    parser.add_argument("--shade-travel-time", type=float, default=10.0)
    parser.add_argument("--flood", type=float, default=0.0, help="status changes per second")
    parser.add_argument("--flood-duration", type=float, default=10.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


async def run(args: argparse.Namespace) -> int:
    """Start the fleet, optionally flood, and run until SIGINT/SIGTERM."""
    loop = asyncio.get_running_loop()
    specs: list[SimDeviceSpec]
    if args.site_map is not None:
        specs = await loop.run_in_executor(None, load_site_map, args.site_map)
    else:
        specs = generate_fleet(args.generate, args.seed)
        if args.write_site_map is not None:
            await loop.run_in_executor(None, dump_site_map, specs, args.write_site_map)
            _LOGGER.info("site map written to %s", args.write_site_map)
    host, port = parse_broker(args.broker)
    config = SimConfig(
        confirm_delay=args.confirm_delay,
        drop_rate=args.drop_rate,
        sensor_interval=args.sensor_interval,
        motion_interval=args.motion_interval,
        shade_travel_time=args.shade_travel_time,
        announce=args.announce,
    )
    fleet = Fleet(specs, host, port, base=args.base, config=config, seed=args.seed)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await fleet.start()
    except ConnectionError as err:
        _LOGGER.error("%s", err)  # noqa: TRY400 - the reason is the message, no traceback
        return 1
    print(f"READY {len(fleet)} devices", flush=True)
    if args.flood:
        sent = await fleet.flood(args.flood, args.flood_duration)
        _LOGGER.info("flood: %d status changes published", sent)
    await stop.wait()
    await fleet.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
