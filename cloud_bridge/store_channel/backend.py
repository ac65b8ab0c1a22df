"""One interface for every store backend, and the folder backend (the embedded default).

A backend holds one store (a bucket and prefix, or a folder): keys are relative to it.
Every call is async; the folder backend does its file I/O on a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import os
from pathlib import Path
import tempfile
from typing import Protocol

DEFAULT_MAX_BYTES = 8 * 1024 * 1024


class StoreUnavailableError(Exception):
    """The store could not be reached or the transfer broke: try again later."""


class StoreRefusedError(StoreUnavailableError):
    """The store refused us (HTTP 401/403: unknown key, wrong secret, no permission, clock
    off): trying again will not help until someone fixes the cause. The message says the
    cause in words and what to check; it never holds a secret or the store's raw answer."""

    def __init__(self, status: int, code: str, key: str) -> None:
        super().__init__(f"{refusal_reason(status, code)} ({key})")
        self.status = status
        self.code = code


# S3 error code -> (what the store refused, what to check)
_REFUSALS: dict[str, tuple[str, str]] = {
    "InvalidAccessKeyId": ("does not know our access key", "check aws_access_key_id"),
    "SignatureDoesNotMatch": ("refused our signature", "check aws_secret_access_key"),
    "AccessDenied": (
        "refused our credentials",
        "check the access key and its permissions on the bucket",
    ),
    "RequestTimeTooSkewed": ("refused our request time", "check this machine's clock"),
    "ExpiredToken": ("refused our expired credentials", "renew the access key"),
    "AccountProblem": ("refused the account", "check the account with its provider"),
    "AllAccessDisabled": ("has disabled all access to the bucket", "check the bucket"),
}
_DEFAULT_REFUSAL = ("refused our credentials", "check the access key")


def refusal_reason(status: int, code: str) -> str:
    """The refusal in words: what happened (with the HTTP status and code), what to check."""
    what, check = _REFUSALS.get(code, _DEFAULT_REFUSAL)
    return f"the store {what} (HTTP {status} {code}): {check}"


class StoreNotFoundError(Exception):
    """There is no object under that key."""


class TooLargeError(Exception):
    """The object is larger than the reader accepts (it was not downloaded)."""

    def __init__(self, size: int, limit: int, etag: str = "") -> None:
        super().__init__(f"{size} bytes, more than the {limit} accepted")
        self.size = size
        self.limit = limit
        self.etag = etag


@dataclass(frozen=True, slots=True)
class Fetched:
    """A whole object, checked: its bytes, its version tag (ETag), when it was written."""

    data: bytes
    etag: str
    modified: float | None = None


class ObjectStore(Protocol):
    """What the channel needs from a store."""

    def describe(self) -> str:
        """Where the store is, for logs and status (never a secret)."""

    async def get(
        self, key: str, etag: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Fetched | None:
        """The object, or None when its version is still `etag` (nothing downloaded).

        Raises StoreNotFoundError, TooLargeError or StoreUnavailableError.
        """

    async def put(self, key: str, data: bytes, content_type: str = "application/json") -> str:
        """Store the object whole (readers never see half of it); returns its ETag."""

    async def close(self) -> None:
        """Release connections."""


def check_key(key: str) -> str:
    """A key is a relative path of plain parts (no '..', no leading '/')."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"bad store key {key!r}")
    return key


class FolderStore:
    """A store in a local folder; the version tag is the file's mtime and size."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        """The folder."""
        return f"folder {self.root}"

    def path(self, key: str) -> Path:
        """The file that holds `key`."""
        return self.root / check_key(key)

    async def get(
        self, key: str, etag: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Fetched | None:
        """Read the file unless its tag is still `etag` (then only a stat is done)."""
        return await asyncio.to_thread(self._get, self.path(key), etag, max_bytes)

    @staticmethod
    def _get(path: Path, etag: str | None, max_bytes: int) -> Fetched | None:
        try:
            before = path.stat()
        except FileNotFoundError:
            raise StoreNotFoundError(str(path)) from None
        except OSError as err:
            raise StoreUnavailableError(f"{path}: {err.strerror}") from err
        tag = _tag(before)
        if tag == etag:
            return None
        if before.st_size > max_bytes:
            raise TooLargeError(before.st_size, max_bytes, tag)
        try:
            data = path.read_bytes()
            after = path.stat()
        except FileNotFoundError:
            raise StoreUnavailableError(f"{path} went away while being read") from None
        except OSError as err:
            raise StoreUnavailableError(f"{path}: {err.strerror}") from err
        if _tag(after) != tag or len(data) != before.st_size:
            raise StoreUnavailableError(f"{path} changed while being read")
        return Fetched(data, tag, before.st_mtime)

    async def put(self, key: str, data: bytes, content_type: str = "application/json") -> str:
        """Write to a temporary file beside the target, then rename it into place."""
        del content_type
        return await asyncio.to_thread(self._put, self.path(key), data)

    @staticmethod
    def _put(path: Path, data: bytes) -> str:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as err:
            raise StoreUnavailableError(f"{path}: {err.strerror}") from err
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
            return _tag(path.stat())
        except OSError as err:
            Path(tmp).unlink(missing_ok=True)
            raise StoreUnavailableError(f"{path}: {err.strerror}") from err

    async def close(self) -> None:
        """Nothing to release."""


def _tag(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
