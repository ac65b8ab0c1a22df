"""The S3 backend: its signatures are botocore's, and a transfer cut mid-way through a
real S3 server is retried and never half-run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import hashlib
import json
from pathlib import Path
import time
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
import pytest

from cloud_bridge.store_channel.backend import StoreNotFoundError, StoreUnavailableError
from cloud_bridge.store_channel.sigv4 import Credentials, sign
from tests.bridge.store_channel_fixtures import channel_rig
from tests.helpers.polling import wait_for
from tests.helpers.s3_server import S3Server, running_s3
from tests.helpers.tcp_proxy import FaultyProxy


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.mark.parametrize(
    ("method", "path", "body", "extra"),
    [
        ("GET", "/bucket/home 1/incoming/cmd+s.json", b"", {"if-none-match": '"abc"'}),
        ("PUT", "/bucket/status/é~x.json", b'{"a": 1}', {"content-type": "application/json"}),
    ],
)
def test_signature_matches_botocore(
    method: str, path: str, body: bytes, extra: dict[str, str]
) -> None:
    amz_date = "20261201T120000Z"
    digest = hashlib.sha256(body).hexdigest()
    headers = {
        "host": "127.0.0.1:9000",
        "x-amz-date": amz_date,
        "x-amz-content-sha256": digest,
        **extra,
    }
    ours = sign(
        method=method,
        path=path,
        query={},
        headers=headers,
        payload_sha256=digest,
        credentials=Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region="eu-west-1",
        amz_date=amz_date,
    )
    request = AWSRequest(
        method=method, url=f"http://127.0.0.1:9000{quote(path)}", data=body, headers=headers
    )
    signer = S3SigV4Auth(
        BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        "s3",
        "eu-west-1",
    )
    request.context["timestamp"] = amz_date
    canonical = signer.canonical_request(request)
    to_sign = signer.string_to_sign(request, canonical)
    theirs = signer.signature(to_sign, request)
    assert ours.endswith(f"Signature={theirs}")


async def test_a_download_cut_in_the_middle_is_retried_and_never_half_run(
    tmp_path: Path, s3: S3Server
) -> None:
    proxy = FaultyProxy(s3.host, s3.port)
    await proxy.up()
    async with channel_rig(tmp_path, "s3", s3, endpoint=proxy.endpoint, start=True) as rig:
        rig.channel.retry_first = 0.05
        commands = [
            f"call_service('light.turn_on', 'light.kitchen', {{'brightness': {b}}})"
            for b in range(1, 41)
        ]
        await wait_for(lambda: rig.channel.counts.get("absent"), what="the first poll")
        proxy.arm_cut(after=2000, cuts=3)
        body = await rig.put_commands(commands)
        assert len(body) > 2000
        rig.channel.nudge()
        result = await rig.wait_result(hashlib.sha256(body).hexdigest(), timeout=30)
        assert proxy.cut_done == 3
        assert [c["status"] for c in result["commands"]] == ["ok"] * 40
        brightness = [call[2]["brightness"] for call in rig.ha.calls]
        assert brightness == list(range(1, 41))  # each once, in order, none before the whole file
    await proxy.down()


async def test_an_unreachable_store_raises_unavailable(tmp_path: Path, s3: S3Server) -> None:
    proxy = FaultyProxy(s3.host, s3.port)  # never started: nothing listens there
    async with channel_rig(tmp_path, "s3", s3, endpoint=proxy.endpoint) as rig:
        with pytest.raises(StoreUnavailableError):
            await rig.channel.poll_once()


async def test_status_report_is_put_periodically(tmp_path: Path, s3: S3Server) -> None:
    async with channel_rig(tmp_path, "s3", s3, start=True, status_interval=0.1) as rig:
        seen: set[float] = set()
        deadline = time.monotonic() + 20
        while len(seen) < 3:
            assert time.monotonic() < deadline, f"status reports seen: {seen}"
            with contextlib.suppress(StoreNotFoundError):
                fetched = await rig.cloud_status.get("inspextor/status.json")
                assert fetched is not None
                document = json.loads(fetched.data)
                assert document["instance_id"] == "home-1"
                seen.add(document["at"])
            await asyncio.sleep(0.05)
