"""The add-on's option schema and the bridge's option parsing agree.

What the Supervisor accepts (valid values, the defaults) the bridge must accept with the
same meaning; what the Supervisor refuses (wrong type, out of range, not in the list) the
bridge must refuse too, with a line naming the option, for files written by hand.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
import voluptuous as vol

from tests.repo import supervisor
from tests.repo.addon_files import addon_config

bridge_config = pytest.importorskip("cloud_bridge.config")

CONFIG = addon_config()
SCHEMA: dict[str, str] = CONFIG["schema"]
DEFAULTS: dict[str, Any] = CONFIG["options"]
ADDON_ENV = {"SUPERVISOR_TOKEN": "supervisor-token"}
FILE_OPTIONS = ("cert_file", "key_file", "ca_file", "claim_cert_file", "claim_key_file")

# Strings the bridge checks for form; any other str option takes a generic value.
SAMPLE_TEXT = {
    "contract_id": "C1001",
    "endpoint": "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com",
    "topic_prefix": "inx",
    "store_service": "inspextor",
    "store_configuration": '[{"store_name": "incoming", "bucket_name": "home-bucket", '
    '"region": "eu-west-1", "prefix": "h1/incoming"}, {"store_name": "status", '
    '"bucket_name": "home-bucket", "region": "eu-west-1", "prefix": "h1/status"}]',
    "s3_store_custom_hostandport_endpoint": "localhost:9000",
}


def _base(typ: str) -> str:
    return typ.rstrip("?").split("(")[0]


def _valid_values(key: str, typ: str) -> list[Any]:
    """Values the Supervisor accepts for this schema element, edges included."""
    base = _base(typ)
    if base in ("str", "password"):
        return [SAMPLE_TEXT.get(key, f"sample-{key}")]
    if base == "bool":
        return [True, False]
    if base == "port":
        return [1, 65535]
    if base == "list":
        return supervisor.list_choices(typ.rstrip("?"))
    low, high = supervisor.schema_bounds(typ.rstrip("?"))
    assert low is not None, f"{key}: give {typ} bounds"
    assert high is not None, f"{key}: give {typ} bounds"
    if base == "int":
        return [int(low), int(high)]
    return [low, high]


def _invalid_values(typ: str) -> list[Any]:
    """Values the Supervisor refuses for this schema element."""
    base = _base(typ)
    if base in ("str", "password"):
        return [["not", "text"], {"a": 1}]
    if base == "bool":
        return ["maybe", "sometimes"]  # vol.Boolean takes any non-string by truth
    if base == "port":
        return [0, 65536, "http"]
    if base == "list":
        return ["carrier_pigeon", ["info"]]
    low, high = supervisor.schema_bounds(typ.rstrip("?"))
    assert low is not None
    assert high is not None
    step = 1 if base == "int" else 0.01
    return [low - step, high + step, "lots"]


def _valid_options() -> dict[str, Any]:
    return {key: _valid_values(key, typ)[0] for key, typ in SCHEMA.items()}


def _names(key: str, line: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", line) is not None


def _parse(options: dict[str, Any]) -> Any:
    return bridge_config.parse_options(options, dict(ADDON_ENV))


def test_bridge_knows_every_addon_option() -> None:
    unknown = sorted(set(SCHEMA) - set(bridge_config.OPTIONS))
    assert not unknown, f"the bridge does not know the add-on options {unknown}"


def test_bridge_requires_nothing_the_addon_lets_the_user_leave_out() -> None:
    # Every option the bridge cannot start without is required in the add-on and has no
    # default, so the Supervisor refuses to start the add-on until the user fills it in.
    for key in bridge_config.REQUIRED:
        assert not SCHEMA[key].endswith("?"), f"{key} is required by the bridge"
        assert DEFAULTS.get(key) is None, f"{key} must be filled in by the user"
        options = _valid_options()
        del options[key]
        with pytest.raises(vol.Invalid):
            supervisor.validate_options(SCHEMA, options)
        with pytest.raises(bridge_config.ConfigError) as caught:
            _parse(options)
        assert any(_names(key, line) for line in caught.value.errors), caught.value.errors


def test_defaults_mean_the_same_on_both_sides() -> None:
    options = _valid_options() | {k: v for k, v in DEFAULTS.items() if v is not None}
    config = _parse(supervisor.validate_options(SCHEMA, options))
    fields = bridge_config.BridgeConfig.__dataclass_fields__
    for key, default in DEFAULTS.items():
        if default is None:
            continue
        expected = Path(default) if key in FILE_OPTIONS else default
        assert getattr(config, key) == expected, f"{key}: the add-on default differs"
        assert fields[key].default == expected, f"{key}: the bridge's own default differs"


@pytest.mark.parametrize("edge", [0, 1], ids=["low", "high"])
def test_every_valid_value_is_accepted(edge: int) -> None:
    options = {}
    for key, typ in SCHEMA.items():
        values = _valid_values(key, typ)
        options[key] = values[min(edge, len(values) - 1)] if edge else values[0]
    options = supervisor.validate_options(SCHEMA, options)
    config = _parse(options)
    for key, value in options.items():
        expected = Path(value) if key in FILE_OPTIONS else value
        assert getattr(config, key) == expected, key


@pytest.mark.parametrize(
    ("key", "choice"),
    [
        (key, choice)
        for key, typ in SCHEMA.items()
        if _base(typ) == "list"
        for choice in supervisor.list_choices(typ.rstrip("?"))
    ],
)
def test_every_list_choice_is_accepted(key: str, choice: str) -> None:
    config = _parse(_valid_options() | {key: choice})
    assert getattr(config, key) == choice


@pytest.mark.parametrize(
    ("key", "bad"),
    [(key, bad) for key, typ in SCHEMA.items() for bad in _invalid_values(typ)],
    ids=lambda v: repr(v) if not isinstance(v, str) else v,
)
def test_every_bad_value_is_refused_naming_the_option(key: str, bad: Any) -> None:
    with pytest.raises(vol.Invalid):
        supervisor.validate_option(SCHEMA[key], bad)
    options = _valid_options() | {key: bad}
    with pytest.raises(bridge_config.ConfigError) as caught:
        _parse(options)
    errors = caught.value.errors
    assert any(_names(key, line) for line in errors), f"no line names {key}: {errors}"
    blamed = [line for line in errors if not _names(key, line)]
    assert not blamed, f"valid options blamed for a bad {key}: {blamed}"


def test_option_name_matching_is_exact() -> None:
    assert _names("port", "port: must be between 1 and 65535")
    assert not _names("port", "api_port: must be between 1 and 65535")
    assert not _names("low_window", "high_window: must be a number")
