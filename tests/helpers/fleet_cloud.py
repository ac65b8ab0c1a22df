"""The dev cloud's fleet provisioning stack (devkit/devcloud/fleet_stack.py) for tests,
with the awsiotsdk and paho connections the tests make to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import tempfile

from cloud_bridge.identity.enrol import IdentityTransport
from cloud_bridge.transport.awsiot import AwsIotTransport
from cloud_bridge.transport.mqtt import MqttTransport
from devkit.devcloud.fleet import FleetProvisioning
from devkit.devcloud.fleet_stack import FleetStack, TLSBroker, fleet_stack

TEMPLATE = "inspextor-fleet"


@dataclass
class FleetCloud:
    """The running stack and the connections tests make to it."""

    stack: FleetStack

    @property
    def broker(self) -> TLSBroker:
        return self.stack.broker

    @property
    def fleet(self) -> FleetProvisioning:
        return self.stack.fleet

    @property
    def ca_file(self) -> Path:
        return self.stack.ca_file

    @property
    def claim_cert(self) -> Path:
        return self.stack.claim_cert

    @property
    def claim_key(self) -> Path:
        return self.stack.claim_key

    def transport(self, cert: Path, key: Path, client_id: str, **kwargs: object) -> AwsIotTransport:
        """An awsiotsdk transport to this broker with the given identity."""
        options: dict[str, object] = {"tls_preflight": False, "connect_timeout": 15.0}
        options.update(kwargs)
        port = int(options.pop("port", self.broker.port))  # type: ignore[call-overload]
        return AwsIotTransport(
            "localhost",
            port,
            client_id,
            cert,
            key,
            self.ca_file,
            **options,  # type: ignore[arg-type]
        )

    def open_transport(self, cert_file: Path, key_file: Path, client_id: str) -> IdentityTransport:
        """What the identity package is given to make its connections."""
        return self.transport(cert_file, key_file, client_id)

    def observer(self, client_id: str = "observer") -> MqttTransport:
        """A paho connection with the dev cloud's own (all-topics) certificate."""
        return self.stack.cloud_transport(client_id)


@contextlib.asynccontextmanager
async def running_fleet_cloud(*, cert_days: float = 365) -> AsyncIterator[FleetCloud]:
    """Start the stack on a free port in a temporary folder."""
    directory = Path(tempfile.mkdtemp(prefix="fleet-"))
    try:
        async with fleet_stack(
            directory, templates=frozenset({TEMPLATE}), cert_days=cert_days
        ) as stack:
            yield FleetCloud(stack)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
