"""MqttTransport against a real Mosquitto broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import os
from pathlib import Path
import signal
import subprocess

import pytest

from cloud_bridge.app import make_transport as make_bridge_transport
from cloud_bridge.config import parse_options
from cloud_bridge.transport.base import ConnectionEvent, ConnectionState, TransportError
from cloud_bridge.transport.mqtt import MqttTransport, TLSSettings
from tests.helpers.certs import PKI
from tests.helpers.mosquitto import Broker, free_port, running_broker
from tests.helpers.polling import wait_for
from tests.helpers.transport_recorder import Recorder, recorded_transports


@pytest.fixture
def broker() -> Iterator[Broker]:
    with running_broker() as b:
        yield b


def _mqtt(broker: Broker, client_id: str = "bridge-1", **kwargs: object) -> MqttTransport:
    kwargs.setdefault("reconnect_min", 0.05)
    kwargs.setdefault("reconnect_max", 0.5)
    return MqttTransport(broker.host, broker.port, client_id, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def make_transport() -> AsyncIterator[Callable[..., tuple[MqttTransport, Recorder]]]:
    async with recorded_transports(_mqtt) as make:
        yield make


async def test_publish_and_subscribe_round_trip(broker: Broker, make_transport) -> None:
    home, home_rec = make_transport(broker, "home")
    cloud, _ = make_transport(broker, "cloud")
    await home.connect()
    await cloud.connect()
    assert home.connected
    assert home_rec.events[0].state is ConnectionState.CONNECTED
    assert home_rec.events[0].session_present is False

    await home.subscribe("inx/C1/action")
    await cloud.publish("inx/C1/action", b'{"id": 1}')
    await cloud.publish("inx/C1/other", b"not for home", qos=0)
    await wait_for(lambda: len(home_rec.messages) == 1)
    assert home_rec.messages == [("inx/C1/action", b'{"id": 1}')]


async def test_qos1_publish_returns_only_after_puback(broker: Broker, make_transport) -> None:
    transport, _ = make_transport(broker, "pub-client", ack_timeout=0.5)
    listener, rec = make_transport(broker, "listener")
    await transport.connect()
    await listener.connect()
    await listener.subscribe("inx/ping")
    await transport.publish("inx/ping", b"1")
    await wait_for(lambda: rec.messages == [("inx/ping", b"1")])

    # A frozen broker never acknowledges: the publish must not report success.
    os.kill(broker.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(TransportError) as err:
            await transport.publish("inx/ping", b"2")
        assert err.value.code == "ack_timeout"
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)


async def test_publish_while_disconnected_raises(broker: Broker, make_transport) -> None:
    transport, rec = make_transport(broker)
    with pytest.raises(TransportError) as err:
        await transport.publish("inx/ping", b"x")
    assert err.value.code == "not_connected"

    await transport.connect()
    broker.stop()
    await wait_for(lambda: ConnectionState.INTERRUPTED in rec.states())
    assert not transport.connected
    assert "lost connection" in (rec.events[-1].reason or "")
    with pytest.raises(TransportError, match="not connected"):
        await transport.publish("inx/ping", b"x")


async def test_reconnects_and_resubscribes_after_broker_restart(
    broker: Broker, make_transport
) -> None:
    home, rec = make_transport(broker, "home")
    await home.connect()
    await home.subscribe("inx/C1/#")

    broker.restart()  # persistence is off: the new broker has no session for us
    await wait_for(lambda: rec.states()[-1] is ConnectionState.CONNECTED and len(rec.events) > 2)
    assert ConnectionState.INTERRUPTED in rec.states()
    assert rec.events[-1].session_present is False

    cloud, _ = make_transport(broker, "cloud")
    await cloud.connect()
    await cloud.publish("inx/C1/action", b"after restart")
    await wait_for(lambda: rec.messages == [("inx/C1/action", b"after restart")])


async def test_subscription_made_while_offline_is_applied_on_connect(
    broker: Broker, make_transport
) -> None:
    home, rec = make_transport(broker, "home")
    await home.subscribe("inx/C1/ping")  # remembered, not sent yet
    await home.connect()
    cloud, _ = make_transport(broker, "cloud")
    await cloud.connect()
    await cloud.publish("inx/C1/ping", b"pong")
    await wait_for(lambda: rec.messages == [("inx/C1/ping", b"pong")])


async def test_session_present_keeps_subscriptions_without_resubscribing(
    broker: Broker, make_transport
) -> None:
    home, rec = make_transport(broker, "home")
    await home.connect()
    await home.subscribe("inx/C1/action")
    await home.disconnect()

    await home.connect()
    assert rec.events[-1].state is ConnectionState.CONNECTED
    assert rec.events[-1].session_present is True
    cloud, _ = make_transport(broker, "cloud")
    await cloud.connect()
    await cloud.publish("inx/C1/action", b"kept")
    await wait_for(lambda: ("inx/C1/action", b"kept") in rec.messages)


async def test_duplicate_client_id_kick_loop_is_diagnosed(broker: Broker, make_transport) -> None:
    bridge, rec = make_transport(broker, "thing-42")
    twin, _ = make_transport(broker, "thing-42")  # e.g. a second bridge install
    await bridge.connect()
    await twin.connect()  # kicks `bridge`; each then reconnects and kicks the other

    await wait_for(lambda: any(e.code == "duplicate_client_id" for e in rec.events))
    event = next(e for e in rec.events if e.code == "duplicate_client_id")
    assert event.state is ConnectionState.INTERRUPTED
    assert "another client is connected with client id thing-42" in (event.reason or "")
    assert bridge.diagnosis is not None

    await twin.disconnect()
    await wait_for(lambda: bridge.connected)
    await bridge.publish("inx/ping", b"alone again")


async def test_refused_port_gives_clear_reason() -> None:
    transport = MqttTransport("127.0.0.1", free_port(), "c")
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "connection_refused"
    assert "connection refused" in str(err.value)


async def test_unresolvable_host_is_a_bad_endpoint() -> None:
    transport = MqttTransport("no-such-endpoint.invalid", 8883, "c")
    with pytest.raises(TransportError) as err:
        await asyncio.wait_for(transport.connect(), 20)
    assert err.value.code == "bad_endpoint"
    assert "bad endpoint" in str(err.value)


async def test_not_mqtt_port_times_out(make_transport) -> None:
    silent: list[asyncio.StreamWriter] = []  # keep connections open, never answer
    server = await asyncio.start_server(lambda r, w: silent.append(w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = MqttTransport("127.0.0.1", port, "c", connect_timeout=0.3)
    try:
        with pytest.raises(TransportError) as err:
            await transport.connect()
        assert err.value.code == "timeout"
        assert "no CONNACK" in str(err.value)
    finally:
        server.close()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[Broker]:
    passwd = tmp_path / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwd), "bridge", "s3cret"],
        check=True,
        capture_output=True,
    )
    passwd.chmod(0o600)
    conf = f"password_file {passwd}\nallow_anonymous false\n"
    with running_broker(extra_conf=conf) as b:
        yield b


async def test_bad_credentials_are_reported(password_broker: Broker, make_transport) -> None:
    wrong, _ = make_transport(password_broker, "c1", username="bridge", password="wrong")
    with pytest.raises(TransportError) as err:
        await wrong.connect()
    assert err.value.code in {"bad_credentials", "not_authorised"}
    assert "connection refused" in str(err.value)

    right, _ = make_transport(password_broker, "c2", username="bridge", password="s3cret")
    await right.connect()
    assert right.connected


@pytest.fixture
def tls_broker(pki: PKI) -> Iterator[Broker]:
    with running_broker(tls=pki.broker_files) as b:
        yield b


async def test_mutual_tls_with_client_certificate(
    tls_broker: Broker, pki: PKI, make_transport
) -> None:
    tls = TLSSettings(pki.ca, pki.client_cert, pki.client_key)
    transport, rec = make_transport(tls_broker, "tls-client", tls=tls)
    await transport.connect()
    await transport.subscribe("inx/C1/action")
    await transport.publish("inx/C1/action", b"over tls")
    await wait_for(lambda: rec.messages == [("inx/C1/action", b"over tls")])


async def test_tls_with_untrusted_server_certificate(
    tls_broker: Broker, pki: PKI, make_transport
) -> None:
    tls = TLSSettings(pki.other_ca, pki.client_cert, pki.client_key)
    transport, _ = make_transport(tls_broker, "tls-client", tls=tls)
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "tls_error"
    assert "TLS failure" in str(err.value)


async def test_tls_without_client_certificate_is_refused(
    tls_broker: Broker, pki: PKI, make_transport
) -> None:
    transport, _ = make_transport(tls_broker, "tls-client", tls=TLSSettings(pki.ca))
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code in {"tls_error", "connection_closed"}


async def test_bridge_config_presents_its_client_certificate_when_it_has_one(
    tls_broker: Broker, pki: PKI, tmp_path: Path
) -> None:
    # the add-on's `mqtt_tls` used to trust the CA only, so a broker that requires client
    # certificates (as AWS IoT does) refused it
    options = {
        "contract_id": "C-1",
        "instance_id": "home-1",
        "instance_password": "pw-1",
        "transport": "mqtt",
        "endpoint": "127.0.0.1",
        "port": tls_broker.port,
        "mqtt_tls": True,
        "ca_file": str(pki.ca),
        "cert_file": str(pki.client_cert),
        "key_file": str(pki.client_key),
        "ha_token": "t",
        "data_dir": str(tmp_path),
    }
    transport = make_bridge_transport(parse_options(options, {}))
    try:
        await transport.connect()
        assert transport.connected
    finally:
        await transport.disconnect()
    # without the client files it falls back to the CA alone (and this broker refuses)
    options |= {"cert_file": str(tmp_path / "none.crt"), "key_file": str(tmp_path / "none.key")}
    transport = make_bridge_transport(parse_options(options, {}))
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code in {"tls_error", "connection_closed"}
    await transport.disconnect()


async def test_missing_certificate_file(tmp_path: Path, broker: Broker, make_transport) -> None:
    tls = TLSSettings(tmp_path / "nope.pem")
    transport, _ = make_transport(broker, tls=tls)
    with pytest.raises(TransportError) as err:
        await transport.connect()
    assert err.value.code == "certificate_missing"
    assert "nope.pem" in str(err.value)


async def test_dead_broker_is_detected_by_keepalive(broker: Broker, make_transport) -> None:
    transport, rec = make_transport(broker, "ka", keepalive=1)
    await transport.connect()
    os.kill(broker.process.pid, signal.SIGSTOP)  # the link is up but nobody answers
    try:
        await wait_for(lambda: ConnectionState.INTERRUPTED in rec.states())
        assert not transport.connected
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)
    await wait_for(lambda: transport.connected)


async def test_publish_awaiting_puback_fails_when_connection_drops(
    broker: Broker, make_transport
) -> None:
    transport, _ = make_transport(broker, "pub")
    await transport.connect()
    os.kill(broker.process.pid, signal.SIGSTOP)
    publish = asyncio.create_task(transport.publish("inx/ping", b"x"))
    await asyncio.sleep(0.1)
    assert not publish.done()
    os.kill(broker.process.pid, signal.SIGKILL)  # connection reset: no PUBACK will come
    with pytest.raises(TransportError) as err:
        await asyncio.wait_for(publish, 30)
    assert err.value.code == "lost"


async def test_failing_handlers_do_not_break_the_transport(broker: Broker) -> None:
    seen: list[str] = []

    def on_message(topic: str, payload: bytes) -> None:
        seen.append(topic)
        raise RuntimeError("bridge bug")

    def on_connection(event: ConnectionEvent) -> None:
        raise RuntimeError("bridge bug")

    transport = MqttTransport(broker.host, broker.port, "h")
    transport.set_handlers(on_message, on_connection)
    await transport.connect()
    try:
        await transport.subscribe("t/1")
        await transport.publish("t/1", b"a")
        await transport.publish("t/1", b"b")
        await wait_for(lambda: seen == ["t/1", "t/1"])
        assert transport.connected
    finally:
        await transport.disconnect()


async def test_invalid_topics_are_refused_clearly(broker: Broker, make_transport) -> None:
    transport, _ = make_transport(broker, "t")
    await transport.connect()
    with pytest.raises(TransportError) as err:
        await transport.publish("inx/#", b"x")
    assert err.value.code == "invalid_publish"
    with pytest.raises(TransportError) as err:
        await transport.subscribe("")
    assert err.value.code == "invalid_subscribe"
    assert transport.connected


async def test_works_before_handlers_are_set(broker: Broker) -> None:
    transport = MqttTransport(broker.host, broker.port, "bare", reconnect_min=0.05)
    await transport.connect()
    try:
        await transport.subscribe("t/1")
        await transport.publish("t/1", b"dropped quietly")
        assert transport.diagnosis is None
        broker.restart()
        await wait_for(lambda: not transport.connected)
        await wait_for(lambda: transport.connected)
        await transport.publish("t/1", b"again")
    finally:
        await transport.disconnect()
    assert not transport.connected
