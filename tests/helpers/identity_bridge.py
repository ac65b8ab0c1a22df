"""A bridge's identity side for tests: provisioned by claim, a live awsiotsdk connection,
and a Rotator whose switch reconnects the live connection with the new certificate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
import time

from cloud_bridge.identity.enrol import OpenTransport
from cloud_bridge.identity.provisioning import ClaimSettings, provision_by_claim
from cloud_bridge.identity.rotator import RotationSettings, Rotator
from cloud_bridge.identity.state import ActiveIdentity, IdentityStore
from cloud_bridge.transport.awsiot import AwsIotTransport
from tests.helpers.fleet_cloud import TEMPLATE, FleetCloud
from tests.helpers.transport_recorder import Recorder

CONTRACT, INSTANCE = "C1", "home-1"


def settings(**overrides: object) -> RotationSettings:
    values: dict[str, object] = {
        "template": TEMPLATE,
        "contract_id": CONTRACT,
        "instance_id": INSTANCE,
        "client_id": f"{CONTRACT}-{INSTANCE}",
        "timeout": 15.0,
    }
    values.update(overrides)
    return RotationSettings(**values)  # type: ignore[arg-type]


async def provision(
    cloud: FleetCloud, directory: Path, contract: str = CONTRACT, instance: str = INSTANCE
) -> IdentityStore:
    """Provision a thing by claim into `directory`."""
    store = IdentityStore(directory)
    claim = ClaimSettings(
        cloud.claim_cert, cloud.claim_key, TEMPLATE, contract, instance, f"claim-{instance}"
    )
    await provision_by_claim(claim, store, cloud.open_transport)
    return store


@dataclass
class LiveIdentity:
    """The live connection and the rotator driving it."""

    cloud: FleetCloud
    store: IdentityStore
    live: AwsIotTransport | None = None
    recorder: Recorder = field(default_factory=Recorder)
    offset: float = 0.0  # seconds added to the rotator's clock
    switches: list[ActiveIdentity] = field(default_factory=list)
    rotator: Rotator | None = None

    async def connect(self, active: ActiveIdentity) -> AwsIotTransport:
        transport = self.cloud.transport(
            self.store.path(active.cert_file), self.store.path(active.key_file), active.thing_name
        )
        transport.set_handlers(self.recorder.on_message, self.recorder.on_connection)
        await transport.connect()
        self.live = transport
        return transport

    async def switch(self, active: ActiveIdentity) -> None:
        if self.live is not None:
            await self.live.disconnect()
        self.switches.append(active)
        self.offset = 0.0
        await self.connect(active)

    def make_rotator(
        self, open_transport: OpenTransport | None = None, **overrides: object
    ) -> Rotator:
        clock: Callable[[], float] = lambda: time.time() + self.offset  # noqa: E731
        self.rotator = Rotator(
            self.store,
            settings(**overrides),
            live=lambda: self.live,
            open_transport=open_transport or self.cloud.open_transport,
            switch=self.switch,
            clock=clock,
        )
        return self.rotator

    async def close(self) -> None:
        if self.live is not None:
            await self.live.disconnect()
