"""A dev cloud that plays AWS IoT fleet provisioning on a real Mosquitto with mutual TLS.

The dev CA signs the broker's certificate, the dev cloud's own, a claim certificate and
every CSR; the broker enforces the dev cloud's ACL (`use_identity_as_username`) and CRL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import signal
import tempfile
import time

from cloud_bridge.identity.enrol import IdentityTransport
from cloud_bridge.protocol.packets import decode, encode, ping_reply
from cloud_bridge.transport.awsiot import AwsIotTransport
from cloud_bridge.transport.base import ConnectionEvent
from cloud_bridge.transport.mqtt import MqttTransport
from cloud_bridge.transport.tls import TLSSettings
from devkit.devcloud.ca import DevCA
from devkit.devcloud.fleet import FleetProvisioning, PolicyFiles
from tests.helpers.mosquitto import Broker, TLSFiles, start_broker

TEMPLATE = "inspextor-fleet"
SUPERUSER = "devcloud"
CLAIM_CN = "claim-installer-1"


@dataclass
class FleetCloud:
    """The running broker, the provisioning service and the files a bridge is given."""

    broker: Broker
    fleet: FleetProvisioning
    ca_file: Path
    claim_cert: Path
    claim_key: Path
    superuser: tuple[Path, Path]
    directory: Path

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
        cert, key = self.superuser
        return MqttTransport(
            "localhost", self.broker.port, client_id, tls=TLSSettings(self.ca_file, cert, key)
        )


async def _reload(broker: Broker) -> None:
    """SIGHUP the broker and wait until its log says it reread its configuration.

    On a loaded machine the line can take a while; the signal is repeated every 5 s
    (a second reload is harmless), for at most 30 s.
    """
    before = broker.log.count("Reloading config.")
    deadline = time.monotonic() + 30
    while broker.log.count("Reloading config.") <= before:
        os.kill(broker.process.pid, signal.SIGHUP)
        resend = time.monotonic() + 5
        while broker.log.count("Reloading config.") <= before and time.monotonic() < resend:
            await asyncio.sleep(0.02)
        if time.monotonic() > deadline:
            raise TimeoutError("mosquitto did not reload its configuration")


async def _echo_pings(cloud: FleetCloud) -> MqttTransport:
    """Answer `inx/ping` on `inx/<cid>/ping` as the dev cloud's rule and service do."""
    echo = cloud.observer("ping-echo")
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def on_message(_topic: str, payload: bytes) -> None:
        request = decode(payload)
        topic = f"inx/{request['contract_id']}/ping"
        task = loop.create_task(echo.publish(topic, encode(ping_reply(request, time.time())), 1))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def on_connection(_event: ConnectionEvent) -> None:
        return None

    echo.set_handlers(on_message, on_connection)
    await echo.connect()
    await echo.subscribe("inx/ping", 1)
    return echo


@contextlib.asynccontextmanager
async def running_fleet_cloud(*, cert_days: float = 365) -> AsyncIterator[FleetCloud]:
    """Start the broker, the provisioning service and the ping echo."""
    directory = Path(tempfile.mkdtemp(prefix="fleet-"))
    ca = DevCA.create()
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.cert_pem)
    server = ca.write_pair(directory, "localhost", server=True)
    superuser = ca.write_pair(directory, SUPERUSER)
    claim_cert, claim_key = ca.write_pair(directory, CLAIM_CN)
    acl, crl = directory / "acl", directory / "crl.pem"
    acl.write_text(f"user {SUPERUSER}\ntopic readwrite #\ntopic readwrite $aws/#\n")
    ca.write_crl(crl)
    broker = start_broker(
        tls=TLSFiles(ca=ca_file, cert=server[0], key=server[1]),
        extra_conf=f"acl_file {acl}\ncrlfile {crl}\n",
    )
    policy = PolicyFiles(acl, crl, lambda: _reload(broker))
    service_transport = MqttTransport(
        "localhost",
        broker.port,
        "devcloud-fleet",
        tls=TLSSettings(ca_file, superuser[0], superuser[1]),
    )
    fleet = FleetProvisioning(
        ca,
        service_transport,
        policy,
        templates=frozenset({TEMPLATE}),
        superuser=SUPERUSER,
        cert_days=cert_days,
    )
    fleet.claims.add(CLAIM_CN)
    cloud = FleetCloud(broker, fleet, ca_file, claim_cert, claim_key, superuser, directory)
    echo: MqttTransport | None = None
    try:
        await fleet.start()
        echo = await _echo_pings(cloud)
        yield cloud
    finally:
        if echo is not None:
            await echo.disconnect()
        await fleet.stop()
        broker.stop()
        shutil.rmtree(broker.workdir, ignore_errors=True)
        shutil.rmtree(directory, ignore_errors=True)
