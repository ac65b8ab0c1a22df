"""AwsIotTransport (awscrt) against Mosquitto playing AWS IoT Core with mutual TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import os
from pathlib import Path
import signal

import pytest

from cloud_bridge.transport.awsiot import AwsIotTransport
from cloud_bridge.transport.base import ConnectionEvent, ConnectionState, TransportError
from tests.helpers.certs import PKI, foreign_client
from tests.helpers.clock import SteppedClock
from tests.helpers.mosquitto import Broker, free_port, running_broker
from tests.helpers.polling import wait_for
from tests.helpers.transport_recorder import Recorder, recorded_transports


@pytest.fixture
def broker(pki: PKI) -> Iterator[Broker]:
    with running_broker(tls=pki.broker_files) as b:
        yield b


@pytest.fixture
async def make(pki: PKI) -> AsyncIterator[Callable[..., tuple[AwsIotTransport, Recorder]]]:
    def build(port: int, client_id: str = "thing-1", **kwargs: object) -> AwsIotTransport:
        files = {"cert_file": pki.client_cert, "key_file": pki.client_key, "ca_file": pki.ca}
        files.update(kwargs.pop("files", {}))  # type: ignore[arg-type]
        endpoint = str(kwargs.pop("endpoint", "localhost"))
        return AwsIotTransport(endpoint, port, client_id, **files, **kwargs)  # type: ignore[arg-type]

    async with recorded_transports(build) as factory:
        yield factory


async def test_connect_subscribe_publish_receive(broker: Broker, make) -> None:
    transport, rec = make(broker.port)
    await transport.connect()
    assert transport.connected
    assert rec.events[0].state is ConnectionState.CONNECTED
    await transport.subscribe("inx/C1/action")
    await transport.publish("inx/C1/action", b'{"cmd": 1}')  # QoS 1: returns after PUBACK
    await wait_for(lambda: rec.messages == [("inx/C1/action", b'{"cmd": 1}')])
    await transport.disconnect()
    assert rec.events[-1].state is ConnectionState.DISCONNECTED
    with pytest.raises(TransportError) as err:
        await transport.publish("inx/ping", b"x")
    assert err.value.code == "not_connected"


async def test_broker_restart_interrupts_then_resumes_and_resubscribes(
    broker: Broker, make
) -> None:
    transport, rec = make(broker.port)
    await transport.connect()
    await transport.subscribe("inx/C1/#")
    broker.restart()
    await wait_for(
        lambda: (
            [e.state for e in rec.events][-2:]
            == [ConnectionState.INTERRUPTED, ConnectionState.CONNECTED]
        ),
        timeout=15,
    )
    interrupted = next(e for e in rec.events if e.state is ConnectionState.INTERRUPTED)
    assert interrupted.reason
    assert rec.events[-1].session_present is False  # no persistence: the transport resubscribed
    await transport.publish("inx/C1/ping", b"after restart")
    await wait_for(lambda: ("inx/C1/ping", b"after restart") in rec.messages)


async def test_missing_certificate_is_reported_before_connecting(tmp_path: Path, make) -> None:
    transport, _ = make(free_port(), files={"cert_file": tmp_path / "device.pem.crt"})
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "certificate_missing"
    assert "device certificate file not found" in str(err.value)
    assert "device.pem.crt" in str(err.value)


async def test_wrong_ca_is_a_tls_failure(broker: Broker, pki: PKI, make) -> None:
    transport, _ = make(broker.port, files={"ca_file": pki.other_ca})
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "tls_error"
    assert "certificate" in str(err.value)


async def test_unusable_key_file(broker: Broker, pki: PKI, make, tmp_path: Path) -> None:
    junk = tmp_path / "private.pem.key"
    junk.write_text("not a key")
    transport, _ = make(broker.port, files={"key_file": junk})
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code in {"certificate_invalid", "tls_error"}


async def test_expired_and_not_yet_valid_certificates_are_named(broker: Broker, make) -> None:
    """Found by a new user: an expired certificate got only the generic TLS checklist."""
    later = SteppedClock()
    later.step(40 * 86400)  # the test certificate is valid 30 days
    transport, _ = make(broker.port, clock=later)
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "certificate_expired"
    assert "the device certificate" in str(err.value)
    assert "expired on " in str(err.value)
    earlier = SteppedClock()
    earlier.step(-86400)
    transport, _ = make(broker.port, clock=earlier)
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "certificate_not_yet_valid"
    assert "is not yet valid until " in str(err.value)


async def test_key_of_another_certificate_is_named(broker: Broker, make, tmp_path: Path) -> None:
    """Found by a new user: awscrt said only 1033 (AWS_IO_TLS_CTX_ERROR), forever."""
    _, other_key = foreign_client(tmp_path)
    transport, _ = make(broker.port, files={"key_file": other_key})
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "certificate_key_mismatch"
    assert "does not belong to the device certificate" in str(err.value)


async def test_a_certificate_the_server_refuses_says_which_side_refused(
    broker: Broker, make, tmp_path: Path
) -> None:
    cert, key = foreign_client(tmp_path)
    transport, _ = make(broker.port, files={"cert_file": cert, "key_file": key})
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "certificate_rejected"
    assert str(err.value).startswith("TLS failure: the server rejected our certificate")


async def test_the_tls_check_presents_our_certificate(broker: Broker, make) -> None:
    """The broker logged "peer did not return a certificate" on every connect."""
    transport, _ = make(broker.port)
    await transport.connect()
    await transport.disconnect()
    assert "did not return a certificate" not in broker.log
    assert "New client connected" in broker.log


async def test_bad_endpoint(make) -> None:
    transport, _ = make(8883, endpoint="no-such-endpoint.invalid")
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code in {"bad_endpoint", "timeout"}


async def test_refused_port(make) -> None:
    transport, _ = make(free_port())
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "connection_refused"


async def test_duplicate_client_id_kick_loop(broker: Broker, make) -> None:
    bridge, rec = make(broker.port, "thing-dup")
    twin, _ = make(broker.port, "thing-dup")
    await bridge.connect()
    await twin.connect()
    await wait_for(lambda: any(e.code == "duplicate_client_id" for e in rec.events), 30)
    event = next(e for e in rec.events if e.code == "duplicate_client_id")
    assert "another client is connected with client id thing-dup" in (event.reason or "")
    assert bridge.diagnosis is not None


async def test_silent_endpoint_times_out(make) -> None:
    silent: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(lambda r, w: silent.append(w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = make(port, connect_timeout=0.5)
    try:
        with pytest.raises(TransportError) as err:
            await transport.connect()
        assert err.value.code == "timeout"
    finally:
        server.close()


async def test_qos1_publish_waits_for_puback(broker: Broker, make) -> None:
    transport, _ = make(broker.port, ack_timeout=0.5)
    await transport.connect()
    os.kill(broker.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(TransportError) as err:
            await transport.publish("inx/ping", b"1")
        assert err.value.code == "ack_timeout"
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)


def test_refused_connack_is_explained() -> None:
    from awscrt.mqtt import ConnectReturnCode

    from cloud_bridge.transport.awsiot import _explain

    assert _explain(Exception(ConnectReturnCode.NOT_AUTHORIZED)).code == "not_authorised"
    assert _explain(Exception(ConnectReturnCode.BAD_USERNAME_OR_PASSWORD)).code == (
        "bad_credentials"
    )
    assert "SERVER_UNAVAILABLE" in _explain(Exception(ConnectReturnCode.SERVER_UNAVAILABLE)).reason
    assert _explain(ValueError("odd")).code == "transport_error"


async def test_invalid_topics_are_refused_clearly(broker: Broker, make) -> None:
    transport, _ = make(broker.port)
    await transport.connect()
    with pytest.raises(TransportError) as err:
        await transport.publish("inx/#", b"x")
    assert "inx/#" in str(err.value)
    with pytest.raises(TransportError) as err:
        await transport.subscribe("inx/#/bad")
    assert err.value.code == "subscribe_failed"
    assert transport.connected


async def test_failing_handlers_do_not_break_the_transport(broker: Broker, make) -> None:
    transport, _ = make(broker.port)
    seen: list[str] = []

    def on_message(topic: str, payload: bytes) -> None:
        seen.append(topic)
        raise RuntimeError("bridge bug")

    def on_connection(event: ConnectionEvent) -> None:
        raise RuntimeError("bridge bug")

    transport.set_handlers(on_message, on_connection)
    await transport.connect()
    await transport.subscribe("inx/C1/ping")
    await transport.publish("inx/C1/ping", b"a")
    await transport.publish("inx/C1/ping", b"b")
    await wait_for(lambda: seen == ["inx/C1/ping", "inx/C1/ping"])
    assert transport.connected


async def test_works_before_handlers_are_set(broker: Broker, pki: PKI) -> None:
    transport = AwsIotTransport(
        "localhost", broker.port, "bare", pki.client_cert, pki.client_key, pki.ca
    )
    await transport.connect()
    try:
        await transport.subscribe("inx/C1/ping")
        await transport.publish("inx/C1/ping", b"dropped quietly")
        assert transport.diagnosis is None
        broker.restart()
        await wait_for(lambda: not transport.connected)
        await wait_for(lambda: transport.connected, timeout=15)
        await transport.publish("inx/C1/ping", b"again")
    finally:
        await transport.disconnect()
    assert not transport.connected
