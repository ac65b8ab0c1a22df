"""The store channel's configuration, as the source writes it: STORE_CONFIGURATION, the
AWS and custom-endpoint variables, and secrets that never show."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from cloud_bridge.config import ConfigError, parse_options
from cloud_bridge.logsafe import RedactingFilter
from cloud_bridge.store_channel.factory import settings_from_config
from cloud_bridge.store_channel.s3 import S3Store
from cloud_bridge.store_channel.settings import (
    StoreConfigError,
    make_backends,
    parse_store_configuration,
)
from cloud_bridge.store_channel.wiring import REDACTED, redacted_options

# The source's "complete store configuration example" (seed 004), apps included.
SOURCE_EXAMPLE = [
    {
        "store_name": "config",
        "bucket_name": "etablone-test",
        "region": "eu-west-1",
        "prefix": "enrollment",
    },
    {"store_name": "apps", "bucket_name": "etablone-test", "region": "eu-west-1", "prefix": "apps"},
    {
        "store_name": "incoming",
        "bucket_name": "etablone-test",
        "region": "eu-west-1",
        "prefix": "simulator_test/incoming",
    },
    {
        "store_name": "contents",
        "bucket_name": "etablone-test",
        "region": "eu-west-1",
        "prefix": "simulator_test/contents",
    },
    {
        "store_name": "status",
        "bucket_name": "etablone-test",
        "region": "eu-west-1",
        "prefix": "simulator_test/status",
    },
]
SECRET = "s3-secret-canary-4b1e9d7a"
BASE = {
    "contract_id": "C-1",
    "instance_id": "home-1",
    "instance_password": "instance-pw-123",
    "endpoint": "127.0.0.1",
    "transport": "mqtt",
    "ha_token": "ha-token-123456",
}
SOURCE_ENV = {
    "STORE_CONFIGURATION": json.dumps(SOURCE_EXAMPLE),
    "AWS_ACCESS_KEY_ID": "AKIASOURCEEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT": "localhost:9000",
    "S3_STORE_CUSTOM_HTTP_SCHEME": "http",
}


def test_the_source_example_and_variables_configure_s3() -> None:
    config = parse_options(BASE | {"store_channel": True, "store_backend": "s3"}, SOURCE_ENV)
    settings = settings_from_config(config)
    stores = make_backends(settings)
    assert sorted(stores) == ["config", "contents", "incoming", "status"]  # apps: not a home's
    incoming = stores["incoming"]
    assert isinstance(incoming, S3Store)
    assert incoming.describe() == (
        "s3://etablone-test/simulator_test/incoming at http://localhost:9000"
    )
    assert SECRET in config.secrets  # the log filter redacts it
    assert SECRET not in repr(settings)


def test_without_a_custom_endpoint_it_is_aws_s3_virtual_hosted() -> None:
    env = {k: v for k, v in SOURCE_ENV.items() if not k.startswith("S3_STORE")}
    config = parse_options(BASE | {"store_channel": True, "store_backend": "s3"}, env)
    store = make_backends(settings_from_config(config))["status"]
    assert store.describe() == (
        "s3://etablone-test/simulator_test/status at https://etablone-test.s3.eu-west-1.amazonaws.com"
    )


def test_the_folder_backend_defaults_to_the_data_folder(tmp_path: Path) -> None:
    config = parse_options(BASE | {"store_channel": True, "data_dir": str(tmp_path)}, {})
    stores = make_backends(settings_from_config(config))
    assert stores["incoming"].describe() == f"folder {tmp_path}/stores/inspextor/incoming"


def test_s3_without_keys_is_refused_naming_the_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_options(BASE | {"store_channel": True, "store_backend": "s3"}, {})
    assert caught.value.errors == [
        "aws_access_key_id: required by store_backend s3",
        "aws_secret_access_key: required by store_backend s3",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{", "is not valid JSON"),
        ('{"store_name": "incoming"}', "must be a JSON list"),
        ("[]", "must be a JSON list"),
        ('["incoming"]', "entry 1 is not an object"),
        ('[{"store_name": "incoming", "bucket_name": 5}]', "bucket_name must be text"),
        ('[{"store_name": "outgoing", "bucket_name": "abc"}]', "store_name must be one of"),
        ('[{"store_name": "incoming", "bucket_name": "A_B"}]', "not a valid S3 bucket"),
        ('[{"store_name": "incoming", "bucket_name": "abc", "prefix": "a/../b"}]', "prefix"),
        ('[{"store_name": "incoming", "bucket_name": "abc"}]', "names no status store"),
    ],
)
def test_a_bad_store_configuration_is_refused_with_the_reason(text: str, error: str) -> None:
    with pytest.raises(StoreConfigError, match=error):
        parse_store_configuration(text)
    with pytest.raises(ConfigError) as caught:
        parse_options(BASE | {"store_configuration": text}, {})
    assert caught.value.errors[0].startswith("store_configuration: ")


def test_a_store_named_twice_is_refused() -> None:
    twice = [SOURCE_EXAMPLE[2], SOURCE_EXAMPLE[4], SOURCE_EXAMPLE[4]]
    with pytest.raises(StoreConfigError, match="twice"):
        parse_store_configuration(json.dumps(twice))


def test_diagnostics_options_and_logs_never_show_the_keys(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_options(BASE | {"store_channel": True, "store_backend": "s3"}, SOURCE_ENV)
    options = redacted_options(config)
    assert options["aws_secret_access_key"] == REDACTED
    assert options["aws_access_key_id"] == REDACTED
    assert SECRET not in json.dumps(options)
    logger = logging.getLogger("tests.store_channel.secret")
    redactor = RedactingFilter(config.secrets)
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.WARNING, logger=logger.name):
            logger.warning("store refused key %s", SECRET)
    finally:
        logger.removeFilter(redactor)
    assert SECRET not in caplog.text
