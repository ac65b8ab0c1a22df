"""The S3 backend: signed (SigV4) requests over aiohttp, the bridge's own HTTP client.

With no custom endpoint it speaks to AWS S3 (virtual-hosted style,
`https://<bucket>.s3.<region>.amazonaws.com`); with the source's
`S3_STORE_CUSTOM_HOSTANDPORT_ENDPOINT` and `S3_STORE_CUSTOM_HTTP_SCHEME` it speaks path
style to that host (SeaweedFS, MinIO, moto). The request code is the same for both.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import hashlib
import re

import aiohttp
from yarl import URL

from cloud_bridge.store_channel.backend import (
    DEFAULT_MAX_BYTES,
    Fetched,
    StoreNotFoundError,
    StoreRefusedError,
    StoreUnavailableError,
    TooLargeError,
    check_key,
)
from cloud_bridge.store_channel.sigv4 import Credentials, sign, uri_encode_path

REQUEST_TIMEOUT = 30.0
_MD5_ETAG = re.compile(r'^"?([0-9a-f]{32})"?$')
_CHUNK = 64 * 1024
REFUSED_STATUSES = frozenset({401, 403})  # the store will not take us until fixed


class S3Store:
    """One bucket and prefix."""

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        prefix: str,
        credentials: Credentials,
        endpoint: str | None = None,
        scheme: str = "https",
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.bucket = bucket
        self.region = region or "us-east-1"
        self.prefix = prefix.strip("/")
        self.credentials = credentials
        if endpoint:
            self.host, self.base_path = endpoint, f"/{bucket}"
        else:
            self.host, self.base_path = f"{bucket}.s3.{self.region}.amazonaws.com", ""
        self.scheme = scheme
        self._session = session
        self._own_session = session is None
        self.requests = 0  # sent, for the benchmark's per-day figures
        self.bytes_in = 0

    def describe(self) -> str:
        """Bucket, prefix and endpoint."""
        return f"s3://{self.bucket}/{self.prefix} at {self.scheme}://{self.host}"

    def _path(self, key: str | None) -> str:
        if key is None:
            return self.base_path or "/"
        full = f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)
        return f"{self.base_path}/{full}"

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=False)
            self._own_session = True
        return self._session

    def _headers(
        self, method: str, path: str, body: bytes, extra: dict[str, str]
    ) -> dict[str, str]:
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        digest = hashlib.sha256(body).hexdigest()
        headers = {
            "host": self.host,
            "x-amz-date": amz_date,
            "x-amz-content-sha256": digest,
            **extra,
        }
        headers["Authorization"] = sign(
            method=method,
            path=path,
            query={},
            headers=headers,
            payload_sha256=digest,
            credentials=self.credentials,
            region=self.region,
            amz_date=amz_date,
        )
        return headers

    def _url(self, path: str) -> URL:
        return URL(f"{self.scheme}://{self.host}{uri_encode_path(path)}", encoded=True)

    async def get(
        self, key: str, etag: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Fetched | None:
        """GET with If-None-Match: a 304 costs one request and no body."""
        path = self._path(key)
        extra = {"if-none-match": etag} if etag else {}
        headers = self._headers("GET", path, b"", extra)
        self.requests += 1
        try:
            async with self._session_now().get(self._url(path), headers=headers) as resp:
                if resp.status == 304:
                    return None
                if resp.status == 404:
                    raise StoreNotFoundError(key)
                await _raise_for_status(resp, key)
                return await self._read_checked(resp, max_bytes)
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError) as err:
            raise StoreUnavailableError(f"{self.describe()}: {err or type(err).__name__}") from err

    async def _read_checked(self, resp: aiohttp.ClientResponse, max_bytes: int) -> Fetched:
        size = resp.content_length
        tag = resp.headers.get("ETag", "")
        if size is not None and size > max_bytes:
            raise TooLargeError(size, max_bytes, tag)
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise TooLargeError(total, max_bytes, tag)
            chunks.append(chunk)
        data = b"".join(chunks)
        self.bytes_in += len(data)
        if size is not None and len(data) != size:
            raise StoreUnavailableError(f"download cut: {len(data)} of {size} bytes")
        whole = _MD5_ETAG.match(tag)
        if whole and hashlib.md5(data).hexdigest() != whole.group(1):  # noqa: S324 - S3's ETag
            raise StoreUnavailableError("download does not match its ETag")
        return Fetched(data, tag, _modified(resp.headers.get("Last-Modified")))

    async def put(self, key: str, data: bytes, content_type: str = "application/json") -> str:
        """PUT the whole object (S3 makes it visible only once complete)."""
        path = self._path(key)
        headers = self._headers("PUT", path, data, {"content-type": content_type})
        self.requests += 1
        try:
            async with self._session_now().put(self._url(path), data=data, headers=headers) as resp:
                await _raise_for_status(resp, key)
                return resp.headers.get("ETag", "")
        except (aiohttp.ClientError, TimeoutError) as err:
            raise StoreUnavailableError(f"{self.describe()}: {err or type(err).__name__}") from err

    async def create_bucket(self) -> None:
        """Create the bucket (dev cloud and tests; a home never creates buckets)."""
        body = b""
        if self.region != "us-east-1":
            body = (
                "<CreateBucketConfiguration><LocationConstraint>"
                f"{self.region}</LocationConstraint></CreateBucketConfiguration>"
            ).encode()
        path = self._path(None)
        headers = self._headers("PUT", path, body, {})
        try:
            async with self._session_now().put(self._url(path), data=body, headers=headers) as resp:
                if resp.status not in (200, 409):
                    await _raise_for_status(resp, self.bucket)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise StoreUnavailableError(f"{self.describe()}: {err}") from err

    async def close(self) -> None:
        """Close the HTTP session when it is ours."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


async def _raise_for_status(resp: aiohttp.ClientResponse, key: str) -> None:
    if resp.status < 300:
        return
    text = (await resp.text(errors="replace"))[:300]
    code = re.search(r"<Code>([^<]+)</Code>", text)
    if resp.status in REFUSED_STATUSES:
        # only the code: a refusal's body may echo the access key id and what was signed
        raise StoreRefusedError(resp.status, code.group(1) if code else "refused", key)
    reason = code.group(1) if code else f"HTTP {resp.status}"
    raise StoreUnavailableError(f"{key}: {reason}")


def _modified(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None
