"""The local API: token on every route, body size, JSON errors, the routes themselves."""

from __future__ import annotations

import aiohttp
import pytest

from tests.bridge.bridge_fixtures import BridgeHarness, success_reply

GOOD = {"Authorization": "Bearer local-api-token"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/status"),
        ("POST", "/api/activate"),
        ("POST", "/api/deregister"),
        ("POST", "/api/ping"),
        ("POST", "/api/resync"),
        ("GET", "/api/exposure"),
        ("PUT", "/api/exposure"),
        ("GET", "/api/nothing"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "local-api-token"}],
)
async def test_every_route_requires_the_token(
    harness: BridgeHarness, method: str, path: str, headers: dict[str, str]
) -> None:
    async with harness.session.request(method, harness.api_url + path, headers=headers) as resp:
        assert resp.status == 401
        body = await resp.json()
    assert body["error"]["code"] == "unauthorized"
    assert harness.cloud.on_topic("inx/activate") == []


async def test_oversized_body_is_refused_with_json(harness: BridgeHarness) -> None:
    big = b'{"entities": ["' + b"a" * (70 * 1024) + b'"]}'
    async with harness.session.put(
        harness.api_url + "/api/exposure", data=big, headers=GOOD
    ) as resp:
        assert resp.status == 413
        assert (await resp.json())["error"]["code"] == "body_too_large"

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(70):
            yield b"x" * 1024

    async with harness.session.put(
        harness.api_url + "/api/exposure", data=chunks(), headers=GOOD
    ) as resp:
        assert resp.status == 413
        assert (await resp.json())["error"]["code"] == "body_too_large"


async def test_exposure_round_trip_and_validation(harness: BridgeHarness) -> None:
    url = harness.api_url + "/api/exposure"
    async with harness.session.put(
        url, json={"entities": ["light.b", "light.a", "light.a"]}, headers=GOOD
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {"entities": ["light.a", "light.b"]}
    async with harness.session.get(url, headers=GOOD) as resp:
        assert await resp.json() == {"entities": ["light.a", "light.b"]}
    for bad, code in (
        (b"nope", "invalid_json"),
        (b'{"entities": "light.a"}', "invalid_exposure"),
        (b'{"entities": ["Light A"]}', "invalid_entity_id"),
    ):
        async with harness.session.put(url, data=bad, headers=GOOD) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["code"] == code
    assert await harness.bridge.get_exposure() == ["light.a", "light.b"]


async def test_status_and_actions(harness: BridgeHarness) -> None:
    async with harness.session.get(harness.api_url + "/api/status", headers=GOOD) as resp:
        status = await resp.json()
    assert status["cloud_connected"] is True
    # the integration keys its bridge entry on these
    assert status["contract_id"] == harness.bridge.config.contract_id
    assert status["instance_id"] == harness.bridge.config.instance_id
    assert status["activation"]["state"] == "never"
    assert set(status["outbox"]) == {"structure", "high", "low", "dropped_low"}
    assert status["kick_loop"] is False
    assert status["version"] == "0.1.0"
    harness.cloud.activation_replies = [success_reply()]
    async with harness.session.post(harness.api_url + "/api/activate", headers=GOOD) as resp:
        assert (await resp.json())["success"] is True
    async with harness.session.post(harness.api_url + "/api/ping", headers=GOOD) as resp:
        assert resp.status == 200
        assert (await resp.json())["ok"] is True
    harness.cloud.answer_pings = False
    async with harness.session.post(harness.api_url + "/api/ping", headers=GOOD) as resp:
        assert resp.status == 504
    async with harness.session.post(harness.api_url + "/api/resync", headers=GOOD) as resp:
        assert (await resp.json())["ok"] is True
    harness.cloud.activation_replies = [success_reply()]
    async with harness.session.post(harness.api_url + "/api/deregister", headers=GOOD) as resp:
        assert (await resp.json())["success"] is True
    async with harness.session.get(harness.api_url + "/api/nothing", headers=GOOD) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"


async def test_api_is_not_reachable_without_listening_host(harness: BridgeHarness) -> None:
    # bound to 127.0.0.1 outside the add-on, as configured
    assert harness.config.api_host == "127.0.0.1"
    with pytest.raises(aiohttp.ClientError):
        async with harness.session.get(
            f"http://127.0.0.2:{harness.config.api_port}/api/status", headers=GOOD
        ):
            pass
