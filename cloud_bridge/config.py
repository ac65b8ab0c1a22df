"""The bridge's options: parsed from the add-on's options.json or a file, plus env vars."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import secrets
from typing import Any

import yaml

ADDON_OPTIONS = Path("/data/options.json")
SUPERVISOR_WS_URL = "ws://supervisor/core/websocket"
ENV_PREFIX = "INSPEXTOR_"
SECRET_OPTIONS = (
    "instance_password",
    "mqtt_password",
    "ha_token",
    "api_token",
    "aws_secret_access_key",
)
# The store channel's settings under the names the RustiQ source gives them.
SOURCE_ENV = (
    "STORE_CONFIGURATION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT",
    "S3_STORE_CUSTOM_HTTP_SCHEME",
)
_HOST_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class ConfigError(ValueError):
    """One or more options are invalid; `errors` holds one clear line per bad option."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """Everything the bridge needs, validated."""

    contract_id: str
    instance_id: str
    instance_password: str
    endpoint: str
    name: str = ""
    type: str = "home"
    location: str = ""
    phone: str = ""
    transport: str = "aws_iot"
    port: int = 8883
    client_id: str = ""
    cert_file: Path = Path("/ssl/inspextor/certificate.pem.crt")
    key_file: Path = Path("/ssl/inspextor/private.pem.key")
    ca_file: Path = Path("/ssl/inspextor/AmazonRootCA1.pem")
    # zero-touch: with a provisioning template the bridge provisions itself by claim
    claim_cert_file: Path = Path("/ssl/inspextor/claim/certificate.pem.crt")
    claim_key_file: Path = Path("/ssl/inspextor/claim/private.pem.key")
    provisioning_template: str = ""
    rotation_margin_days: int = 30
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_tls: bool = False
    topic_prefix: str = "inx"
    keepalive: int = 45
    ping_interval: int = 60
    high_window: float = 0.5
    low_window: float = 30.0
    low_capacity: int = 100_000
    command_max_ttl: float = 300.0
    api_port: int = 9998
    api_host: str = "127.0.0.1"
    log_level: str = "info"
    ha_url: str = "ws://localhost:8123/api/websocket"
    ha_token: str = ""
    data_dir: Path = Path("/data")
    api_token: str | None = None
    store_channel: bool = False
    store_backend: str = "folder"
    store_folder: str | None = None
    store_service: str = "inspextor"
    store_configuration: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    s3_store_custom_hostandport_endpoint: str | None = None
    s3_store_custom_http_scheme: str = "https"
    store_poll_interval: int = 60
    store_status_interval: int = 300
    store_command_ttl: int = 86400
    expose_user_rules: bool = False  # the user's own automations, read-only, to the cloud
    # not in the add-on schema (tuning, tests): defaults suit production
    activation_timeout: float = 10.0
    activation_attempts: int = 3
    max_publish_rate: int = 90
    max_bytes_rate: int = 512 * 1024
    cover_timeout: float = 90.0
    clock_skew: float = 5.0
    in_addon: bool = False

    @property
    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = [
            self.instance_password,
            self.mqtt_password,
            self.ha_token,
            self.api_token,
            self.aws_secret_access_key,
            self.aws_access_key_id,
        ]
        return [v for v in values if v]


class _BadValueError(Exception):
    """An option's value is not acceptable (the message completes '<option>: ')."""


type Converter = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _BadValueError("must be text")
    return str(value).strip()


def _nonempty(value: Any) -> str:
    text = _text(value)
    if not text:
        raise _BadValueError("must not be empty")
    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise _BadValueError("must be true or false")


def _int_range(low: int, high: int) -> Converter:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise _BadValueError("must be a whole number")
        try:
            number = int(str(value).strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise _BadValueError("must be a whole number") from None
        if isinstance(value, float) and value != number:
            raise _BadValueError("must be a whole number")
        if not low <= number <= high:
            raise _BadValueError(f"must be between {low} and {high}")
        return number

    return convert


def _float_range(low: float, high: float) -> Converter:
    def convert(value: Any) -> float:
        if isinstance(value, bool):
            raise _BadValueError("must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _BadValueError("must be a number") from None
        if not low <= number <= high:
            raise _BadValueError(f"must be between {low:g} and {high:g}")
        return number

    return convert


def _choice(*choices: str) -> Converter:
    def convert(value: Any) -> str:
        text = _text(value).lower()
        if text not in choices:
            raise _BadValueError(f"must be one of {', '.join(choices)}")
        return text

    return convert


def _endpoint(value: Any) -> str:
    text = _nonempty(value)
    if "://" in text or not _HOST_RE.match(text):
        raise _BadValueError(
            "must be a host name such as abc123-ats.iot.eu-west-1.amazonaws.com "
            "(no scheme, no port, no path)"
        )
    return text


def _topic_level(value: Any) -> str:
    text = _nonempty(value)
    if any(ch in text for ch in "/+#"):
        raise _BadValueError("must be one topic level without '/', '+' or '#'")
    return text


def _ws_url(value: Any) -> str:
    text = _nonempty(value)
    if not text.startswith(("ws://", "wss://", "http://", "https://")):
        raise _BadValueError("must start with ws://, wss://, http:// or https://")
    return text


def _path(value: Any) -> Path:
    return Path(_nonempty(value))


def _store_configuration(value: Any) -> str:
    from cloud_bridge.store_channel.settings import (  # noqa: PLC0415 - keeps config light
        StoreConfigError,
        parse_store_configuration,
    )

    text = _text(value)
    try:
        parse_store_configuration(text)
    except StoreConfigError as err:
        raise _BadValueError(str(err)) from None
    return text


def _host_port(value: Any) -> str:
    text = _nonempty(value)
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not _HOST_RE.match(host) or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        raise _BadValueError("must be host or host:port, such as localhost:9000 (no scheme)")
    return text


def _optional(convert: Converter) -> Converter:
    def wrapped(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return convert(value)

    return wrapped


OPTIONS: dict[str, Converter] = {
    "contract_id": _topic_level,
    "instance_id": _nonempty,
    "instance_password": _nonempty,
    "name": _text,
    "type": _nonempty,
    "location": _text,
    "phone": _text,
    "transport": _choice("aws_iot", "mqtt"),
    "endpoint": _endpoint,
    "port": _int_range(1, 65535),
    "client_id": _nonempty,
    "cert_file": _path,
    "key_file": _path,
    "ca_file": _path,
    "claim_cert_file": _path,
    "claim_key_file": _path,
    "provisioning_template": _optional(_text),
    "rotation_margin_days": _int_range(1, 180),
    "mqtt_username": _optional(_text),
    "mqtt_password": _optional(_text),
    "mqtt_tls": _boolean,
    "topic_prefix": _topic_level,
    "keepalive": _int_range(30, 60),
    "ping_interval": _int_range(0, 3600),
    "high_window": _float_range(0.05, 1.0),
    "low_window": _float_range(1, 3600),
    "low_capacity": _int_range(1000, 1_000_000),
    "command_max_ttl": _float_range(1, 3600),
    "api_port": _int_range(1, 65535),
    "api_host": _nonempty,
    "log_level": _choice("debug", "info", "warning", "error"),
    "ha_url": _ws_url,
    "ha_token": _nonempty,
    "data_dir": _path,
    "api_token": _optional(_text),
    "store_channel": _boolean,
    "store_backend": _choice("folder", "s3"),
    "store_folder": _optional(_text),
    "store_service": _topic_level,
    "store_configuration": _optional(_store_configuration),
    "aws_access_key_id": _optional(_text),
    "aws_secret_access_key": _optional(_text),
    "s3_store_custom_hostandport_endpoint": _optional(_host_port),
    "s3_store_custom_http_scheme": _choice("http", "https"),
    "store_poll_interval": _int_range(1, 86400),
    "store_status_interval": _int_range(0, 86400),
    "store_command_ttl": _int_range(60, 30 * 86400),
    "expose_user_rules": _boolean,
    "activation_timeout": _float_range(0.05, 120),
    "activation_attempts": _int_range(1, 10),
    "max_publish_rate": _int_range(1, 100),
    "max_bytes_rate": _int_range(1024, 512 * 1024),
    "cover_timeout": _float_range(0.1, 600),
    "clock_skew": _float_range(0, 300),
}
REQUIRED = ("contract_id", "instance_id", "instance_password", "endpoint")


def parse_options(options: Mapping[str, Any], env: Mapping[str, str] | None = None) -> BridgeConfig:
    """Validate options (overlaid by `INSPEXTOR_<OPTION>` env vars) into a BridgeConfig."""
    env = env or {}
    merged: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
    for key, value in env.items():
        if key in SOURCE_ENV:
            merged[key.lower()] = value
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            merged[key.removeprefix(ENV_PREFIX).lower()] = value
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key, value in merged.items():
        convert = OPTIONS.get(key)
        if convert is None:
            errors.append(f"{key}: unknown option")
            continue
        try:
            converted = convert(value)
        except _BadValueError as err:
            errors.append(f"{key}: {err}")
            continue
        if converted is not None and converted != "":
            values[key] = converted
        elif key in ("name", "location", "phone"):
            values[key] = ""
    supervisor_token = env.get("SUPERVISOR_TOKEN")
    if supervisor_token:
        values.setdefault("ha_url", SUPERVISOR_WS_URL)
        values.setdefault("ha_token", supervisor_token)
        values.setdefault("api_host", "0.0.0.0")  # noqa: S104 - the integration reaches the add-on over the hassio network
        values["in_addon"] = True
    errors.extend(
        f"{key}: required"
        for key in REQUIRED
        if key not in values and not any(e.startswith(f"{key}:") for e in errors)
    )
    if "ha_token" not in values and not any(e.startswith("ha_token:") for e in errors):
        errors.append("ha_token: required outside the add-on (a long-lived access token)")
    transport = values.get("transport", "aws_iot")
    if transport == "mqtt" and "port" not in values:
        values["port"] = 8883 if values.get("mqtt_tls") else 1883
    errors.extend(_store_errors(values, errors))
    if errors:
        raise ConfigError(errors)
    values.setdefault("client_id", values["instance_id"])
    return BridgeConfig(**values)


def _store_errors(values: dict[str, Any], errors: list[str]) -> list[str]:
    """The S3 backend of an enabled store channel needs both keys."""
    if not values.get("store_channel") or values.get("store_backend") != "s3":
        return []
    keys = ("aws_access_key_id", "aws_secret_access_key")
    return [
        f"{key}: required by store_backend s3"
        for key in keys
        if key not in values and not any(e.startswith(f"{key}:") for e in errors)
    ]


def check_files(config: BridgeConfig) -> list[str]:
    """One line per certificate file the transport needs that is missing or unreadable."""
    if config.transport != "aws_iot" and not config.mqtt_tls:
        return []
    needed = [("cert_file", config.cert_file), ("key_file", config.key_file)]
    if config.transport == "aws_iot" and config.provisioning_template:
        needed = _zero_touch_files(config)
    needed.append(("ca_file", config.ca_file))
    if config.transport == "mqtt":
        needed = [("ca_file", config.ca_file)]
    problems = []
    for key, path in needed:
        if not path.is_file():
            problems.append(f"{key}: certificate file {path} does not exist")
        elif not os.access(path, os.R_OK):
            problems.append(f"{key}: certificate file {path} is not readable")
    return problems


def _zero_touch_files(config: BridgeConfig) -> list[tuple[str, Path]]:
    """Zero-touch: the claim is needed only until the bridge has a certificate."""
    provisioned = (config.data_dir / "identity" / "identity.json").is_file()
    if provisioned or (config.cert_file.is_file() and config.key_file.is_file()):
        return []
    return [("claim_cert_file", config.claim_cert_file), ("claim_key_file", config.claim_key_file)]


def read_options_file(path: Path) -> dict[str, Any]:
    """Read a JSON or YAML options file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"config: cannot read {path}: {err.strerror}"]) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise ConfigError([f"config: {path} is not valid JSON/YAML: {err}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"config: {path} must hold a mapping of options"])
    return data


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> BridgeConfig:
    """Read /data/options.json (the add-on) or `path`, overlay env vars, check files."""
    env = dict(os.environ) if env is None else env
    if path is None:
        path = ADDON_OPTIONS if ADDON_OPTIONS.exists() else None
    options = read_options_file(path) if path is not None else {}
    config = parse_options(options, env)
    problems = check_files(config)
    if problems:
        raise ConfigError(problems)
    return config


def ensure_api_token(config: BridgeConfig) -> str:
    """The local API token: the configured one, else one generated once and kept (0600)."""
    if config.api_token:
        return config.api_token
    path = config.data_dir / "api_token"
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token
