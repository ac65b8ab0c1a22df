"""An S3 store that refuses the bridge (HTTP 403) is the bridge's `store_channel` error,
with the cause in words, and clears once the store takes the requests again; no key or
secret ever shows. A real S3 server (moto) checks the credentials: its auth switch
(`/moto-api/reset-auth`) and its IAM play the store's owner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import json
import logging
from pathlib import Path
from typing import Any
import urllib.request

import boto3
import pytest

from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.store_channel.backend import refusal_reason
from cloud_bridge.store_channel.sigv4 import Credentials
from tests.bridge.bridge_fixtures import start_harness
from tests.bridge.store_channel_fixtures import channel_rig
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for
from tests.helpers.s3_server import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, S3Server, running_s3


@pytest.fixture
def s3() -> Iterator[S3Server]:
    """A server of this test alone: the tests switch its authentication on and off."""
    with running_s3() as server:
        yield server


def _check_credentials(server: S3Server, unchecked_requests: float) -> None:
    """From now on moto checks every request's credentials but the next `unchecked`."""
    request = urllib.request.Request(
        f"http://{server.endpoint}/moto-api/reset-auth",
        data=str(unchecked_requests).encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def _store_options(server: S3Server) -> dict[str, Any]:
    specs = [
        {"store_name": name, "bucket_name": BUCKET, "region": REGION, "prefix": f"home/{name}"}
        for name in ("incoming", "status", "contents", "config")
    ]
    return {
        "store_channel": True,
        "store_backend": "s3",
        "store_configuration": json.dumps(specs),
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "s3_store_custom_hostandport_endpoint": server.endpoint,
        "s3_store_custom_http_scheme": "http",
        "store_poll_interval": 1,
        "store_status_interval": 1,
    }


async def test_a_refused_access_key_is_the_bridges_error_until_the_store_accepts_again(
    tmp_path: Path,
    broker: Broker,
    fake_ha: FakeHA,
    s3: S3Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with start_harness(tmp_path, broker, fake_ha, **_store_options(s3)) as harness:
        bridge = harness.bridge
        channel = bridge.store_channel
        assert channel is not None
        await wait_for(lambda: channel.counts.get("absent"), what="a first poll that got through")
        assert (await bridge.status())["errors"]["store_channel"] is None

        _check_credentials(s3, 0)  # moto does not know our access key

        async def refused() -> dict[str, Any] | None:
            return (await bridge.status())["errors"]["store_channel"]

        error = await wait_for(refused, timeout=30, what="the store channel's error")
        assert error is not None
        assert error["code"] == "store_refused"
        assert error["reason"].startswith(
            "store channel: the store does not know our access key "
            "(HTTP 403 InvalidAccessKeyId): check aws_access_key_id ("
        )
        status = await bridge.status()
        assert status["last_error"]["part"] == "store_channel"
        assert status["last_error"]["reason"] == error["reason"]
        document = json.dumps(status)
        for secret in (ACCESS_KEY, SECRET_KEY):
            assert secret not in document
            assert secret not in caplog.text

        _check_credentials(s3, float("inf"))  # the store takes us again

        async def cleared() -> bool:
            status = await bridge.status()
            return status["errors"]["store_channel"] is None and status["last_error"] is None

        await wait_for(cleared, timeout=30, what="the store channel's error to clear")


async def test_a_key_without_permission_is_access_denied_until_it_is_granted(
    tmp_path: Path, s3: S3Server
) -> None:
    """A key the store knows but may not read the bucket: AccessDenied, then granted."""
    iam = boto3.client(
        "iam",
        endpoint_url=f"http://{s3.endpoint}",
        region_name=REGION,
        aws_access_key_id="unused",
        aws_secret_access_key="unused",  # moto does not check the two unchecked calls
    )
    _check_credentials(s3, 2)
    await asyncio.to_thread(iam.create_user, UserName="home")
    key = (await asyncio.to_thread(iam.create_access_key, UserName="home"))["AccessKey"]
    credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    errors = ErrorState()
    async with channel_rig(tmp_path, "s3", s3, start=True, credentials=credentials) as rig:
        rig.channel.errors = errors  # each retry reports again: set late is in time
        error = await wait_for(
            lambda: errors.get(Part.STORE_CHANNEL), timeout=30, what="the refusal"
        )
        assert error is not None
        assert error.reason.startswith(
            "store channel: the store refused our credentials (HTTP 403 AccessDenied): "
            "check the access key and its permissions on the bucket ("
        )
        assert key["SecretAccessKey"] not in error.reason
        assert errors.most_severe == error

        _check_credentials(s3, 1)  # the owner grants the key the bucket (one unchecked call)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        await asyncio.to_thread(
            iam.put_user_policy,
            UserName="home",
            PolicyName="bucket",
            PolicyDocument=json.dumps(policy),
        )
        rig.channel.nudge()
        await wait_for(
            lambda: errors.get(Part.STORE_CHANNEL) is None, timeout=30, what="the error to clear"
        )
        await wait_for(lambda: rig.channel.counts.get("absent"), what="a poll that got through")


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (403, "SignatureDoesNotMatch", "refused our signature (HTTP 403 SignatureDoesNotMatch)"),
        (403, "RequestTimeTooSkewed", "check this machine's clock"),
        (401, "refused", "the store refused our credentials (HTTP 401 refused): check the"),
    ],
)
def test_every_refusal_says_what_to_check(status: int, code: str, reason: str) -> None:
    assert reason in refusal_reason(status, code)
