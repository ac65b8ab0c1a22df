"""Options: defaults, one clear line per bad option, env overlay, add-on mode, files."""

from __future__ import annotations

import json
from pathlib import Path
import stat

import pytest

from cloud_bridge.config import (
    ConfigError,
    check_files,
    ensure_api_token,
    load_config,
    parse_options,
)

BASE = {
    "contract_id": "C-1",
    "instance_id": "home-1",
    "instance_password": "pw-secret",
    "endpoint": "abc-ats.iot.eu-west-1.amazonaws.com",
    "ha_token": "tok-123",
}


def test_defaults() -> None:
    config = parse_options(BASE)
    assert config.transport == "aws_iot"
    assert (config.port, config.keepalive, config.ping_interval) == (8883, 45, 60)
    assert (config.high_window, config.low_window, config.low_capacity) == (0.5, 30.0, 100_000)
    assert config.client_id == "home-1"
    assert str(config.cert_file) == "/ssl/inspextor/certificate.pem.crt"
    assert str(config.key_file) == "/ssl/inspextor/private.pem.key"
    assert str(config.ca_file) == "/ssl/inspextor/AmazonRootCA1.pem"
    assert (config.topic_prefix, config.api_port, config.api_host) == ("inx", 9998, "127.0.0.1")
    assert config.type == "home"
    assert config.command_max_ttl == 300
    assert set(config.secrets) == {"pw-secret", "tok-123"}


def test_every_bad_option_gets_its_own_line() -> None:
    options = {
        **BASE,
        "endpoint": "https://abc.example.com/x",
        "keepalive": 10,
        "high_window": 2,
        "low_capacity": "many",
        "transport": "carrier-pigeon",
        "mqtt_tls": "maybe",
        "topic_prefix": "a/b",
        "log_level": "loud",
        "ha_url": "localhost:8123",
        "surprise": 1,
        "port": True,
        "name": ["x"],
    }
    del options["contract_id"]
    with pytest.raises(ConfigError) as info:
        parse_options(options)
    errors = info.value.errors
    by_option = {line.split(":", 1)[0] for line in errors}
    assert by_option == {
        "endpoint",
        "keepalive",
        "high_window",
        "low_capacity",
        "transport",
        "mqtt_tls",
        "topic_prefix",
        "log_level",
        "ha_url",
        "surprise",
        "port",
        "name",
        "contract_id",
    }
    assert len(errors) == len(by_option)
    assert "keepalive: must be between 30 and 60" in errors
    assert "contract_id: required" in errors
    assert any(e.startswith("endpoint: must be a host name") for e in errors)


def test_missing_ha_token_outside_addon() -> None:
    options = {k: v for k, v in BASE.items() if k != "ha_token"}
    with pytest.raises(ConfigError, match="ha_token: required outside the add-on"):
        parse_options(options)


def test_env_overlay_and_addon_mode() -> None:
    options = {k: v for k, v in BASE.items() if k != "ha_token"}
    env = {
        "SUPERVISOR_TOKEN": "sup-token",
        "INSPEXTOR_PING_INTERVAL": "0",
        "INSPEXTOR_MQTT_TLS": "true",
        "INSPEXTOR_HIGH_WINDOW": "0.2",
        "OTHER": "ignored",
    }
    config = parse_options(options, env)
    assert config.ha_url == "ws://supervisor/core/websocket"
    assert config.ha_token == "sup-token"
    assert config.api_host == "0.0.0.0"
    assert config.in_addon is True
    assert (config.ping_interval, config.mqtt_tls, config.high_window) == (0, True, 0.2)


def test_mqtt_transport_default_ports() -> None:
    assert parse_options({**BASE, "transport": "mqtt"}).port == 1883
    assert parse_options({**BASE, "transport": "mqtt", "mqtt_tls": True}).port == 8883
    config = parse_options({**BASE, "transport": "mqtt", "mqtt_username": "", "name": ""})
    assert config.mqtt_username is None
    assert check_files(config) == []


def test_missing_certificate_files_are_named(tmp_path: Path) -> None:
    cert = tmp_path / "certificate.pem.crt"
    cert.write_text("x")
    config = parse_options(
        {
            **BASE,
            "cert_file": str(cert),
            "key_file": str(tmp_path / "nokey"),
            "ca_file": str(tmp_path),
        }
    )
    problems = check_files(config)
    assert problems == [
        f"key_file: certificate file {tmp_path / 'nokey'} does not exist",
        f"ca_file: certificate file {tmp_path} does not exist",
    ]
    mqtt = parse_options({**BASE, "transport": "mqtt", "mqtt_tls": True, "ca_file": "/nope"})
    assert check_files(mqtt) == ["ca_file: certificate file /nope does not exist"]


def test_load_config_from_json_yaml_and_env(tmp_path: Path) -> None:
    json_file = tmp_path / "options.json"
    json_file.write_text(json.dumps({**BASE, "transport": "mqtt"}))
    config = load_config(json_file, env={"INSPEXTOR_NAME": "Cabin"})
    assert (config.name, config.transport) == ("Cabin", "mqtt")
    yaml_file = tmp_path / "bridge.yaml"
    yaml_file.write_text("".join(f"{k}: {v}\n" for k, v in BASE.items()) + "transport: mqtt\n")
    assert load_config(yaml_file, env={}).contract_id == "C-1"
    with pytest.raises(ConfigError, match="certificate file"):
        load_config(json_file, env={"INSPEXTOR_TRANSPORT": "aws_iot"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad, env={})
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON/YAML"):
        load_config(broken, env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json", env={})
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="contract_id: required"):
        load_config(empty, env={})


def test_api_token_generated_once_with_mode_0600(tmp_path: Path) -> None:
    config = parse_options({**BASE, "data_dir": str(tmp_path)})
    token = ensure_api_token(config)
    assert len(token) >= 32
    path = tmp_path / "api_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_api_token(config) == token
    assert ensure_api_token(parse_options({**BASE, "api_token": "given"})) == "given"
