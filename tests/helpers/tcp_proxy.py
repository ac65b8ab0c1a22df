"""A loopback TCP proxy that can cut a transfer mid-way or go down and come back, to put
real network faults between a client and a real server."""

from __future__ import annotations

import asyncio
import contextlib

from tests.helpers.mosquitto import free_port


class FaultyProxy:
    """Forwards 127.0.0.1:`port` to `upstream`; `cut_after` bytes of the next responses
    then closes them (counting down `cuts`); `down()` refuses connections until `up()`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.cut_after = 0
        self.cuts = 0
        self.cut_done = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def arm_cut(self, after: int, cuts: int) -> None:
        """Cut the next `cuts` connections after `after` bytes of response (open
        connections are dropped so the client has to make new ones)."""
        self.cut_after, self.cuts = after, cuts
        for writer in list(self._open):
            writer.transport.abort()

    async def down(self) -> None:
        """Stop listening and drop every open connection (the server is 'gone')."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._open.add(up_writer)
        cut = self.cuts > 0
        if cut:
            self.cuts -= 1
        pump_up = asyncio.create_task(self._pump(reader, up_writer, None))
        if await self._pump(up_reader, writer, self.cut_after if cut else None):
            self.cut_done += 1
        pump_up.cancel()
        for w in (writer, up_writer):
            self._open.discard(w)
            w.transport.abort()

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int | None
    ) -> bool:
        """Copy until EOF; True when the copy was cut at `limit` bytes."""
        sent = 0
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if limit is not None and sent + len(data) >= limit:
                    writer.write(data[: max(0, limit - sent)])
                    await writer.drain()
                    return True
                sent += len(data)
                writer.write(data)
                await writer.drain()
        return False
