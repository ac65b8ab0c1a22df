"""Command line: run the things_sync controllers of a site file until interrupted.

python -m devkit.simulator.things_sync --site site.yaml [--only pi-light] [--inputs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
import random
import signal

from .controller import SimController
from .sitefile import load_controllers

_LOGGER = logging.getLogger("devkit.simulator.things_sync")


def build_parser() -> argparse.ArgumentParser:
    """The arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m devkit.simulator.things_sync",
        description="Simulated things_sync controllers (contract 3)",
    )
    parser.add_argument("--site", type=Path, required=True, help="things_sync site file")
    parser.add_argument("--only", action="append", help="run only this controller (repeat)")
    parser.add_argument(
        "--inputs", type=float, default=0.0, help="change a random input every N s (0: never)"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def change_random_input(controllers: list[SimController], rng: random.Random) -> None:
    """Flip a bool input or step a numeric one, on a random controller."""
    inputs = [(c, t) for c in controllers for t in c.things.values() if t.direction == "input"]
    if not inputs:
        return
    controller, thing = rng.choice(inputs)
    if thing.type == "bool":
        controller.report(thing.name, not thing.value)
    elif thing.type in ("int", "float"):
        controller.report(thing.name, round(thing.value + rng.uniform(-1, 1) * 2, 1))
    else:
        controller.report(thing.name, rng.choice(["idle", "busy", "away"]))


async def run(args: argparse.Namespace) -> int:
    """Start the controllers and run until SIGINT/SIGTERM."""
    specs = load_controllers(args.site)
    if args.only:
        specs = [s for s in specs if s.name in args.only]
    controllers = [SimController(spec, seed=args.seed) for spec in specs]
    for controller in controllers:
        await controller.start()
        _LOGGER.info("controller %s on %s:%s", controller.spec.name, *controller.address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rng = random.Random(args.seed)  # noqa: S311 - simulation
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=args.inputs or None)
        if args.inputs and not stop.is_set():
            change_random_input(controllers, rng)
    for controller in controllers:
        await controller.stop()
    return 0


def main() -> int:
    """Entry point."""
    args = build_parser().parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
