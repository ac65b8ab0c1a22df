"""The store configuration as the source writes it, and the backends it makes.

`STORE_CONFIGURATION` is a JSON list of `{"store_name", "bucket_name", "region",
"prefix"}`; credentials and a custom endpoint come from `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT` and
`S3_STORE_CUSTOM_HTTP_SCHEME` (the bridge's options of the same names, lower case).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any

from cloud_bridge.store_channel.backend import FolderStore, ObjectStore
from cloud_bridge.store_channel.s3 import S3Store
from cloud_bridge.store_channel.sigv4 import Credentials

# incoming: command files; status: results, status reports, diagnostics;
# contents: large payloads by reference; config: read by nobody yet (kept for the source).
STORE_NAMES = ("incoming", "status", "contents", "config")
REQUIRED_STORES = ("incoming", "status")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9._/-]*$")


class StoreConfigError(ValueError):
    """The store configuration is not usable (the message says why)."""


@dataclass(frozen=True, slots=True)
class StoreSpec:
    """One store of STORE_CONFIGURATION."""

    store_name: str
    bucket_name: str
    region: str
    prefix: str


def default_specs() -> list[StoreSpec]:
    """Every store in one bucket, each under its own name (the folder default)."""
    return [StoreSpec(name, "inspextor", "", name) for name in STORE_NAMES]


def _spec(item: Any, index: int) -> StoreSpec:
    if not isinstance(item, dict):
        raise StoreConfigError(f"entry {index} is not an object")
    values = {}
    for field in ("store_name", "bucket_name", "region", "prefix"):
        value = item.get(field, "")
        if not isinstance(value, str):
            raise StoreConfigError(f"entry {index}: {field} must be text")
        values[field] = value.strip()
    if values["store_name"] not in STORE_NAMES and values["store_name"] != "apps":
        raise StoreConfigError(f"entry {index}: store_name must be one of {', '.join(STORE_NAMES)}")
    if not _BUCKET_RE.match(values["bucket_name"]):
        raise StoreConfigError(f"entry {index}: bucket_name is not a valid S3 bucket name")
    prefix = values["prefix"].strip("/")
    if not _PREFIX_RE.match(prefix) or ".." in prefix.split("/"):
        raise StoreConfigError(f"entry {index}: prefix may hold letters, digits, . _ - and /")
    return StoreSpec(values["store_name"], values["bucket_name"], values["region"], prefix)


def parse_store_configuration(text: str) -> list[StoreSpec]:
    """Parse STORE_CONFIGURATION; an empty text means the defaults."""
    if not text.strip():
        return default_specs()
    try:
        data = json.loads(text)
    except ValueError:
        raise StoreConfigError("is not valid JSON") from None
    if not isinstance(data, list) or not data:
        raise StoreConfigError("must be a JSON list of stores")
    specs = [_spec(item, index) for index, item in enumerate(data, 1)]
    names = [spec.store_name for spec in specs]
    missing = [name for name in REQUIRED_STORES if name not in names]
    if missing:
        raise StoreConfigError(f"names no {' or '.join(missing)} store")
    if len(set(names)) != len(names):
        raise StoreConfigError("names a store twice")
    return specs


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """Everything the store channel needs, from the bridge's options."""

    backend: str  # folder or s3
    specs: tuple[StoreSpec, ...]
    folder: Path
    service: str
    poll_interval: float
    status_interval: float
    default_ttl: float
    credentials: Credentials | None = None
    endpoint: str | None = None
    scheme: str = "https"
    reference_threshold: int = 256 * 1024


def make_backends(settings: ChannelSettings) -> dict[str, ObjectStore]:
    """One backend per configured store (apps does not apply to a home)."""
    stores: dict[str, ObjectStore] = {}
    for spec in settings.specs:
        if spec.store_name == "apps":
            continue
        if settings.backend == "folder":
            stores[spec.store_name] = FolderStore(settings.folder / spec.bucket_name / spec.prefix)
            continue
        if settings.credentials is None:
            raise StoreConfigError("the S3 backend needs aws_access_key_id and its secret")
        stores[spec.store_name] = S3Store(
            bucket=spec.bucket_name,
            region=spec.region,
            prefix=spec.prefix,
            credentials=settings.credentials,
            endpoint=settings.endpoint,
            scheme=settings.scheme,
        )
    return stores
