"""A bridge process that rotates its certificate and stops dead at a given step.

`python -m tests.helpers.rotate_child '{"port":..,"ca":..,"store":..,"stop_at":..}'`
prints `AT <step>` and then hangs, so the test can SIGKILL it exactly there.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import sys
import time

from cloud_bridge.identity.enrol import IdentityTransport
from cloud_bridge.identity.rotation import Step
from cloud_bridge.identity.rotator import Rotator
from cloud_bridge.identity.state import ActiveIdentity, IdentityStore
from cloud_bridge.transport.awsiot import AwsIotTransport
from tests.helpers.identity_bridge import settings


async def _hang(step: str) -> None:
    print(f"AT {step}", flush=True)
    await asyncio.Event().wait()


async def main(args: dict[str, object]) -> None:
    store = IdentityStore(Path(str(args["store"])))
    stop_at = str(args["stop_at"])

    def open_transport(cert: Path, key: Path, client_id: str) -> IdentityTransport:
        return AwsIotTransport(
            "localhost",
            int(str(args["port"])),
            client_id,
            cert,
            key,
            str(args["ca"]),
            tls_preflight=False,
        )

    live: list[IdentityTransport] = []

    async def connect(active: ActiveIdentity) -> None:
        transport = open_transport(
            store.path(active.cert_file), store.path(active.key_file), active.thing_name
        )
        transport.set_handlers(lambda *_: None, lambda _e: None)
        await transport.connect()
        live[:] = [transport]

    async def switch(active: ActiveIdentity) -> None:
        await live[0].disconnect()
        await connect(active)

    def trial_open(cert: Path, key: Path, client_id: str) -> IdentityTransport:
        if stop_at == "trial":  # hang where the trial connection would start
            print("AT trial", flush=True)
            _block()
        return open_transport(cert, key, client_id)

    async def on_step(step: Step) -> None:
        if step.value == stop_at:
            await _hang(step.value)

    rotator = Rotator(
        store,
        settings(),
        live=lambda: live[0],
        open_transport=trial_open,
        switch=switch,
        on_step=on_step,
    )
    doc = await rotator.load()
    assert doc.active is not None
    await connect(doc.active)
    await rotator.request()
    await rotator.run()
    print("DONE", flush=True)


def _block() -> None:
    while True:
        time.sleep(60)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
