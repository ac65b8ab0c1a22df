"""The dev cloud writes command files and shows results; the mobile CLI's `store send` and
`store results` drive a running bridge through the folder store and the nudge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import io
from pathlib import Path

import aiohttp
import pytest

from cloud_bridge.store_channel.backend import FolderStore, ObjectStore
from devkit.devcloud import ContractSpec, DevCloud
from devkit.devcloud.__main__ import main as devcloud_main
from devkit.devcloud.mobile import MobileClient
from tests.bridge.bridge_fixtures import CONTRACT, INSTANCE, PASSWORD, start_harness
from tests.helpers.devcloud_fixtures import serve
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker

STORE_OPTIONS = {"store_channel": True, "store_poll_interval": 3600, "store_status_interval": 0}


def _stores(tmp_path: Path) -> dict[str, ObjectStore]:
    root = tmp_path / "stores" / "inspextor"
    return {name: FolderStore(root / name) for name in ("incoming", "status", "contents")}


@pytest.fixture
async def cloud_url(broker: Broker, tmp_path: Path) -> AsyncIterator[str]:
    cloud = DevCloud(broker.host, broker.port, tmp_path / "devcloud.sqlite3")
    await cloud.start([ContractSpec.parse(f"{CONTRACT}:{INSTANCE}:{PASSWORD}:active:2030-01-01")])
    cloud.attach_stores(_stores(tmp_path), "inspextor")
    async with serve(cloud) as url:
        yield url
    await cloud.stop()


async def test_store_send_runs_through_the_bridge_and_store_results_shows_it(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA, cloud_url: str
) -> None:
    fake_ha.set_state("light.kitchen", "off")
    async with start_harness(tmp_path, broker, fake_ha, **STORE_OPTIONS) as harness:
        await harness.bridge.set_exposure(["light.kitchen"])
        async with aiohttp.ClientSession() as session:
            client = MobileClient(session, cloud_url)
            assert await client.store_results(CONTRACT) is None
            sent = await client.store_send(
                CONTRACT, ["call_service('light.turn_on', 'light.kitchen', {})", "nope()"]
            )
            result = await client.wait_store_result(CONTRACT, sent["version"], timeout=20)
            assert result is not None
            assert [c["status"] for c in result["commands"]] == ["ok", "error"]
            async with session.get(cloud_url + "/") as page:
                assert 'id="store-results"' in await page.text()

        out = io.StringIO()

        def cli(*args: str) -> int:
            with contextlib.redirect_stdout(out):
                return devcloud_main(["mobile", "--url", cloud_url, "store", *args])

        assert await asyncio.to_thread(cli, "send", "ping()", "--timeout", "20") == 0
        assert await asyncio.to_thread(cli, "results") == 0
    text = out.getvalue()
    assert "command file" in text
    assert "ok     ping()" in text
    assert [c.service for c in fake_ha.service_calls if c.domain == "light"] == ["turn_on"]


async def test_the_store_api_says_when_the_cloud_has_no_store(
    broker: Broker, tmp_path: Path
) -> None:
    cloud = DevCloud(broker.host, broker.port, tmp_path / "devcloud.sqlite3")
    await cloud.start([])
    try:
        async with serve(cloud) as base, aiohttp.ClientSession() as session:
            url = f"{base}/api/homes/{CONTRACT}/store"
            async with session.get(url + "/results") as resp:
                assert resp.status == 503
            async with session.post(url + "/commands", json={"commands": "ping()"}) as resp:
                assert resp.status == 503
    finally:
        await cloud.stop()


def test_the_dev_cloud_reads_the_sources_variables_for_s3(tmp_path: Path) -> None:
    from devkit.devcloud.__main__ import build_parser, store_backends

    args = build_parser().parse_args(["serve", "--store-s3"])
    env = {
        "STORE_CONFIGURATION": '[{"store_name": "incoming", "bucket_name": "home-bucket", '
        '"region": "eu-west-1", "prefix": "h1/in"}, {"store_name": "status", '
        '"bucket_name": "home-bucket", "region": "eu-west-1", "prefix": "h1/st"}]',
        "AWS_ACCESS_KEY_ID": "AKIADEVCLOUD0001",
        "AWS_SECRET_ACCESS_KEY": "devcloud-secret-key",
        "S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT": "127.0.0.1:9000",
        "S3_STORE_CUSTOM_HTTP_SCHEME": "http",
    }
    stores = store_backends(args, env)
    assert stores is not None
    assert stores["incoming"].describe() == "s3://home-bucket/h1/in at http://127.0.0.1:9000"
    folder = build_parser().parse_args(["serve", "--store-folder", str(tmp_path)])
    in_folder = store_backends(folder, {})
    assert in_folder is not None
    assert in_folder["status"].describe() == f"folder {tmp_path}/inspextor/status"
    assert store_backends(build_parser().parse_args(["serve"]), env) is None
