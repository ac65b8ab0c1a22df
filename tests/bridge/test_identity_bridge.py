"""The whole bridge with its identity: zero-touch first start, rotation over the local
API, and a rejected provisioning in the status, against the dev cloud's TLS broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cloud_bridge.app import make_identity
from cloud_bridge.bridge import Bridge
from cloud_bridge.config import parse_options
from cloud_bridge.factory import build_bridge
from cloud_bridge.ha.client import HAWebSocketClient
from tests.bridge.bridge_fixtures import CONTRACT, INSTANCE, PASSWORD
from tests.helpers.fake_ha import FakeHA
from tests.helpers.fleet_cloud import TEMPLATE, FleetCloud, running_fleet_cloud
from tests.helpers.identity_bridge import provision
from tests.helpers.mosquitto import free_port, mosquitto_path
from tests.helpers.polling import wait_for

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")
TOKEN = "local-api-token"


@pytest.fixture
async def cloud() -> AsyncIterator[FleetCloud]:
    async with running_fleet_cloud() as running:
        yield running


@contextlib.asynccontextmanager
async def zero_touch_bridge(
    cloud: FleetCloud, tmp_path: Path, fake_ha: FakeHA, **overrides: Any
) -> AsyncIterator[Bridge]:
    options: dict[str, Any] = {
        "contract_id": CONTRACT,
        "instance_id": INSTANCE,
        "instance_password": PASSWORD,
        "transport": "aws_iot",
        "endpoint": "localhost",
        "port": cloud.broker.port,
        "ca_file": str(cloud.ca_file),
        "cert_file": str(tmp_path / "none.pem.crt"),  # nothing installed by hand
        "key_file": str(tmp_path / "none.pem.key"),
        "claim_cert_file": str(cloud.claim_cert),
        "claim_key_file": str(cloud.claim_key),
        "provisioning_template": TEMPLATE,
        "ha_url": fake_ha.url,
        "ha_token": fake_ha.token,
        "data_dir": str(tmp_path / "data"),
        "api_port": free_port(),
        "api_token": TOKEN,
        "ping_interval": 0,
        "activation_timeout": 5,
    }
    options.update(overrides)
    config = parse_options(options, {})
    config.data_dir.mkdir(parents=True, exist_ok=True)  # as app.run does
    async with aiohttp.ClientSession() as session:
        ha = HAWebSocketClient(session, config.ha_url, config.ha_token, reconnect_min=0.05)
        identity = make_identity(config)
        bridge = build_bridge(
            config, transport=identity.transport, ha=ha, api_token=TOKEN, credentials=identity
        )
        await bridge.start()
        try:
            yield bridge
        finally:
            await bridge.stop()


async def rotate_over_api(bridge: Bridge) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{bridge.config.api_port}/api/certificate/rotate"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, headers={"Authorization": f"Bearer {TOKEN}"}) as resp,
    ):
        return resp.status, await resp.json()


async def test_zero_touch_first_start_then_rotation_from_the_local_api(
    cloud: FleetCloud, tmp_path: Path, fake_ha: FakeHA
) -> None:
    async with zero_touch_bridge(cloud, tmp_path, fake_ha) as bridge:
        await wait_for(lambda: bridge.transport.connected, 30, "connected as the new thing")
        status = await bridge.status()
        first = status["identity"]["certificate_id"]
        assert status["identity"]["thing_name"] == f"{CONTRACT}-{INSTANCE}"
        assert cloud.fleet.active_for(f"{CONTRACT}-{INSTANCE}") == [first]
        assert status["certificate_expires"] is not None
        assert (await bridge.ping_now())["ok"]  # its own topics, through the real policy

        code, outcome = await rotate_over_api(bridge)
        assert (code, outcome) == (200, {"ok": True, "reason": None})
        status = await bridge.status()
        assert status["identity"]["certificate_id"] != first
        assert status["identity"]["rotation"]["step"] == "idle"
        assert cloud.fleet.retired == [first]
        assert bridge.transport.connected
        assert (await bridge.ping_now())["ok"]  # and still after the switch


async def test_a_rejected_provisioning_is_in_the_log_and_the_status(
    cloud: FleetCloud, tmp_path: Path, fake_ha: FakeHA, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with zero_touch_bridge(
        cloud, tmp_path, fake_ha, provisioning_template="no-such-template"
    ) as bridge:
        await wait_for(lambda: bridge.last_error is not None, 30, "the rejection reported")
        status = await bridge.status()
        assert status["last_error"]["code"] == "provisioning_rejected"
        assert "Template no-such-template not found" in status["last_error"]["reason"]
        error = status["identity"]["provisioning_error"]
        assert error["error_code"] == "NotFound"
        assert error["status_code"] == 404
        assert not status["cloud_connected"]
        assert "NotFound (404): Template no-such-template not found" in caplog.text
        code, outcome = await rotate_over_api(bridge)
        assert code == 200
        assert outcome["ok"] is False


async def test_a_certificate_installed_by_hand_is_not_rotated_by_the_bridge(
    cloud: FleetCloud, tmp_path: Path, fake_ha: FakeHA
) -> None:
    hand = {"cert_file": str(cloud.claim_cert), "key_file": str(cloud.claim_key)}
    async with zero_touch_bridge(cloud, tmp_path, fake_ha, **hand) as bridge:
        await wait_for(lambda: bridge.transport.connected, 30, "connected with the manual files")
        code, outcome = await rotate_over_api(bridge)
        assert code == 200
        assert "installed by hand" in outcome["reason"]
        status = await bridge.status()
        assert status["identity"]["zero_touch"] is False
        assert status["certificate_expires"] is not None
        assert not (tmp_path / "data" / "identity" / "identity.json").exists()


async def test_no_certificate_and_no_template_says_so(
    cloud: FleetCloud, tmp_path: Path, fake_ha: FakeHA
) -> None:
    async with zero_touch_bridge(cloud, tmp_path, fake_ha, provisioning_template="") as bridge:
        await wait_for(lambda: bridge.last_error is not None, 30, "the problem reported")
        assert bridge.last_error is not None
        assert bridge.last_error["code"] == "certificate_missing"
        assert "no provisioning template" in bridge.last_error["reason"]


async def test_the_bridge_rotates_by_itself_inside_the_margin(
    tmp_path: Path, fake_ha: FakeHA
) -> None:
    async with running_fleet_cloud(cert_days=10) as short_lived:  # 10 days < 30-day margin
        async with zero_touch_bridge(short_lived, tmp_path, fake_ha) as bridge:
            await wait_for(lambda: short_lived.fleet.retired, 60, "a rotation nobody asked for")
            status = await bridge.status()
            assert status["identity"]["certificate_id"] not in short_lived.fleet.retired
            assert status["identity"]["rotation"]["requested"] is False
            await wait_for(lambda: bridge.transport.connected, 30, "connected on the new one")
            assert (await bridge.ping_now())["ok"]


async def test_a_rotation_the_cloud_rejects_keeps_the_old_certificate_and_says_why(
    cloud: FleetCloud, tmp_path: Path, fake_ha: FakeHA
) -> None:
    async with zero_touch_bridge(cloud, tmp_path, fake_ha) as bridge:
        await wait_for(lambda: bridge.transport.connected, 30, "provisioned and connected")
        first = (await bridge.status())["identity"]["certificate_id"]
        cloud.fleet.templates = frozenset()  # the template was deleted in the cloud
        code, outcome = await rotate_over_api(bridge)
        assert code == 200
        assert outcome["ok"] is False
        assert "NotFound (404)" in outcome["reason"]
        status = await bridge.status()
        assert status["identity"]["certificate_id"] == first
        assert status["identity"]["rotation"]["last_error"]["step"] == "request_certificate"
        assert status["identity"]["rotation"]["retry_at"] is not None
        assert status["errors"]["identity"]["code"] == "provisioning_rejected"
        assert bridge.transport.connected
        assert (await bridge.ping_now())["ok"]  # still working on the old certificate


async def test_an_expired_certificate_is_replaced_through_the_claim_at_start(
    tmp_path: Path, fake_ha: FakeHA
) -> None:
    async with running_fleet_cloud(cert_days=2 / 86_400) as cloud:  # valid for 2 s
        store = await provision(cloud, tmp_path / "data" / "identity", CONTRACT, INSTANCE)
        expired = store.load().active
        assert expired is not None
        await asyncio.sleep(3)
        cloud.fleet.cert_days = 365  # the next certificates are good for a year
        async with zero_touch_bridge(cloud, tmp_path, fake_ha) as bridge:
            await wait_for(lambda: bridge.transport.connected, 30, "connected again")
            status = await bridge.status()
            assert status["identity"]["certificate_id"] != expired.cert_id
            assert (await bridge.ping_now())["ok"]
