"""The store channel's loop: poll the command file, run it under its ledger, upload the
result; send the status report; fetch at once when nudged (an MQTT `action`)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any

from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.storage import StorageError
from cloud_bridge.store_channel.backend import (
    ObjectStore,
    StoreNotFoundError,
    StoreRefusedError,
    StoreUnavailableError,
    TooLargeError,
)
from cloud_bridge.store_channel.ledger import Ledger, Run
from cloud_bridge.store_channel.parse import (
    MAX_FILE_BYTES,
    CommandSyntaxError,
    FileFormatError,
    parse_call,
    parse_file,
)
from cloud_bridge.store_channel.results import result_document, summary
from cloud_bridge.store_channel.settings import ChannelSettings
from cloud_bridge.store_channel.verbs import CommandFailedError, Provider, Verbs
from cloud_bridge.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)
ETAG_KEY = "store_channel_etag"  # kv: the version tag of the command file last handled
RETRY_FIRST = 1.0
RETRY_MAX = 60.0
HA_WAIT = 0.2
HOUSEKEEPING_INTERVAL = 3600.0
REFUSED_CODE = "store_refused"  # the store_channel part's error while a store refuses us


class StoreChannel:
    """Command files in, result files out."""

    def __init__(
        self,
        settings: ChannelSettings,
        stores: dict[str, ObjectStore],
        ledger: Ledger,
        verbs: Verbs,
        status: Provider,
    ) -> None:
        self.settings = settings
        self.incoming = stores["incoming"]
        self.status_store = stores["status"]
        self.stores = stores
        self.ledger = ledger
        self.verbs = verbs
        self._status = status
        self._nudge = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._etag: str | None = None
        self.counts: dict[str, int] = {}
        self.last_error: str | None = None
        self.last_poll: float | None = None
        self.retry_first = RETRY_FIRST
        self.errors: ErrorState | None = None  # the bridge's (factory.attach_store_channel)
        self._refusals: dict[str, StoreRefusedError] = {}  # loop -> the refusal it last met

    @property
    def command_key(self) -> str:
        """The command file's key in the incoming store."""
        return f"{self.settings.service}/commands.json"

    @property
    def result_key(self) -> str:
        """The result file's key in the status store."""
        return f"{self.settings.service}/last_monitoring_status.json"

    def version_key(self, version: str) -> str:
        """The key of the result of one file version (kept beside the last result)."""
        safe = version.replace(":", "-")
        return f"{self.settings.service}/results/{safe}.json"

    async def start(self) -> None:
        """Open the ledger, finish what a killed bridge left, start the loops."""
        await self.ledger.open()
        self._etag = await self.ledger.store.get(ETAG_KEY)
        self._tasks.append(asyncio.create_task(self._poll_loop(), name="store-poll"))
        if self.settings.status_interval > 0:
            self._tasks.append(asyncio.create_task(self._status_loop(), name="store-status"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="store-housekeeping"))

    async def stop(self) -> None:
        """Stop the loops and close the backends."""
        await cancel_and_wait(*self._tasks, ignore_errors=True)
        self._tasks.clear()
        for store in self.stores.values():
            await store.close()

    def summary(self) -> dict[str, Any]:
        """The channel's part of the status document."""
        return {
            "incoming": self.incoming.describe(),
            "command_key": self.command_key,
            "last_poll": self.last_poll,
            "last_error": self.last_error,
            "polls": dict(self.counts),
        }

    async def status_section(self) -> dict[str, Any]:
        """The `store_channel` key of the status document."""
        return self.summary()

    def nudge(self) -> None:
        """A command file is waiting: poll now instead of at the next interval."""
        self._nudge.set()

    def _count(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    async def _poll_loop(self) -> None:
        delay = self.retry_first
        while True:
            try:
                await self.resume()
                outcome = await self.poll_once()
            except StoreUnavailableError as err:
                self.last_error = str(err)
                self._refused("poll", err)
                _LOGGER.warning("store unavailable: %s (retry in %.0f s)", err, delay)
                await self._wait(delay)
                delay = min(delay * 2, RETRY_MAX, max(self.settings.poll_interval, 1.0))
                continue
            except Exception:  # a bug must not end the channel
                _LOGGER.exception("store channel error")
                outcome = "error"
            else:
                self._refused("poll", None)
            self.last_error = None
            self.last_poll = time.time()
            delay = self.retry_first
            self._count(outcome)
            await self._wait(self.settings.poll_interval)

    def _refused(self, loop: str, err: StoreUnavailableError | None) -> None:
        """A loop met a refusal (or got through: None): while any loop's store refuses
        us, that is the bridge's `store_channel` error; it clears when all get through.
        A store that is only unreachable leaves the loop's last refusal as it was."""
        if isinstance(err, StoreRefusedError):
            self._refusals[loop] = err
        elif err is None:
            self._refusals.pop(loop, None)
        if self.errors is None:
            return
        if self._refusals:
            first = next(iter(self._refusals.values()))
            self.errors.report(Part.STORE_CHANNEL, REFUSED_CODE, f"store channel: {first}")
        else:
            self.errors.clear(Part.STORE_CHANNEL, (REFUSED_CODE,))

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._nudge.wait(), seconds)
        self._nudge.clear()

    async def resume(self) -> None:
        """Finish runs left in progress and upload results not yet uploaded."""
        for run in await self.ledger.unfinished():
            if run.state != "done":
                await self._execute(run)
            await self._upload(run.id)

    async def poll_once(self) -> str:
        """One conditional fetch of the command file; returns what happened."""
        try:
            fetched = await self.incoming.get(self.command_key, self._etag, MAX_FILE_BYTES)
        except StoreNotFoundError:
            return "absent"
        except TooLargeError as err:
            version = f"too-large:{err.etag or err.size}"
            await self._refuse(version, "error", f"command file refused: {err}", err.etag)
            return "refused"
        if fetched is None:
            return "unchanged"
        version = hashlib.sha256(fetched.data).hexdigest()
        if await self.ledger.find(self.command_key, version) is not None:
            await self._remember(fetched.etag)
            return "already_done"
        try:
            command_file = parse_file(fetched.data, self.settings.default_ttl)
        except FileFormatError as err:
            await self._refuse(version, "error", f"command file refused: {err}", fetched.etag)
            return "refused"
        written = command_file.issued_at or fetched.modified or time.time()
        if time.time() - written > command_file.ttl:
            reason = (
                f"expired: written {time.time() - written:.0f} s ago, ttl {command_file.ttl:g} s"
            )
            await self._refuse(version, "expired", reason, fetched.etag, command_file.commands)
            return "expired"
        run = await self.ledger.create(
            self.command_key, version, command_file.commands, expires=written + command_file.ttl
        )
        await self._remember(fetched.etag)
        await self._execute(run)
        await self._upload(run.id)
        return "ran"

    async def _refuse(
        self, version: str, status: str, reason: str, etag: str, commands: tuple[str, ...] = ()
    ) -> None:
        _LOGGER.warning("command file %s: %s", self.command_key, reason)
        run = await self.ledger.find(self.command_key, version)
        if run is None:
            run = await self.ledger.create(
                self.command_key, version, commands, refused=(status, reason)
            )
        await self._remember(etag)
        await self._upload(run.id)

    async def _remember(self, etag: str) -> None:
        self._etag = etag or None
        await self.ledger.store.set(ETAG_KEY, self._etag)

    async def _execute(self, run: Run) -> None:
        """Run the commands still pending, in order, each failing alone."""
        for step in await self.ledger.steps(run.id):
            if step.status != "pending":
                continue
            await self._wait_for_ha()
            if run.expires and time.time() > run.expires:  # resumed too late: not run now
                late = f"expired: the file's ttl ended {time.time() - run.expires:.0f} s ago"
                await self.ledger.finish_step(run.id, step.idx, "expired", late)
                continue
            await self.ledger.start_step(run.id, step.idx)
            status, result = await self._run_command(step.command)
            await self.ledger.finish_step(run.id, step.idx, status, result)
        await self.ledger.finish(run.id, *summary(await self.ledger.steps(run.id)))

    async def _wait_for_ha(self) -> None:
        """A command starts only while HA is connected (after a restart the channel is
        up before HA is): it waits, still pending, instead of failing."""
        while not self.verbs.hooks.ha.connected:  # noqa: ASYNC110 - HA API has no event
            await asyncio.sleep(HA_WAIT)

    async def _run_command(self, text: str) -> tuple[str, str]:
        try:
            return "ok", await self.verbs.run(parse_call(text))
        except (CommandSyntaxError, CommandFailedError) as err:
            return "error", str(err)
        except StoreUnavailableError as err:
            return "error", f"store unavailable: {err}"
        except Exception as err:  # one command's bug fails that command alone
            _LOGGER.exception("command %r failed", text)
            return "error", f"internal error: {type(err).__name__}"

    async def _upload(self, run_id: int) -> None:
        """Put the result file; StoreUnavailableError leaves it for the next round."""
        run = next((r for r in await self.ledger.unfinished() if r.id == run_id), None)
        if run is None:
            return
        steps = await self.ledger.steps(run_id)
        document = result_document(run, steps, time.time())
        body = json.dumps(document, indent=1).encode()
        # one file per version first: a later file's result replaces the last one
        await self.status_store.put(self.version_key(run.version), body)
        await self.status_store.put(self.result_key, body)
        await self.ledger.mark_uploaded(run_id)

    async def _housekeeping(self) -> None:
        """Forget old execution records (a key's newest is always kept)."""
        while True:
            with contextlib.suppress(StorageError):
                purged = await self.ledger.purge(time.time())
                if purged:
                    _LOGGER.debug("forgot %d old command file runs", purged)
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)

    async def _status_loop(self) -> None:
        while True:
            try:
                await self.send_status()
            except StoreUnavailableError as err:
                if isinstance(err, StoreRefusedError) and "status" not in self._refusals:
                    _LOGGER.warning("status report not sent: %s", err)
                self._refused("status", err)
            else:
                self._refused("status", None)
            await asyncio.sleep(self.settings.status_interval)

    async def send_status(self) -> None:
        """Put the bridge's status document at `status/{service}/status.json`."""
        document: dict[str, Any] = await self._status()
        body = json.dumps(document, indent=1, default=str).encode()
        await self.status_store.put(f"{self.settings.service}/status.json", body)
