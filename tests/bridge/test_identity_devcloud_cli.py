"""`python -m devkit.devcloud fleet`: a dev cloud a zero-touch bridge provisions itself on."""

from __future__ import annotations

import asyncio
from pathlib import Path
import signal
import sys

import pytest

from cloud_bridge.identity.provisioning import ClaimSettings, provision_by_claim
from cloud_bridge.identity.state import IdentityStore
from cloud_bridge.transport.awsiot import AwsIotTransport
from tests.helpers.mosquitto import free_port, mosquitto_path

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")
ROOT = Path(__file__).resolve().parents[2]


async def test_the_fleet_command_serves_provisioning_by_claim(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "devkit.devcloud",
        "fleet",
        "--dir",
        str(tmp_path / "cloud"),
        "--port",
        str(port),
        "--template",
        "home-fleet",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith(f"READY mqtts://localhost:{port} ")
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        assert fields["templates"] == "home-fleet"

        def open_transport(cert: Path, key: Path, client_id: str) -> AwsIotTransport:
            return AwsIotTransport(
                "localhost", port, client_id, cert, key, fields["ca_file"], tls_preflight=False
            )

        claim = ClaimSettings(
            Path(fields["claim_cert_file"]),
            Path(fields["claim_key_file"]),
            "home-fleet",
            "C9",
            "home-9",
            "claim-home-9",
        )
        active = await provision_by_claim(claim, IdentityStore(tmp_path / "id"), open_transport)
        assert active.thing_name == "C9-home-9"
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await proc.wait()
    assert proc.returncode == 0
