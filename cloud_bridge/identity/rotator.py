"""Runs the rotation state machine over real connections, persisting every step.

A step's files are written before the document that names them, and the switch is one
atomic write of the document: a bridge killed at any point restarts on a certificate that
works (the old one before the switch, the new one after) and resumes where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import json
import logging
import secrets
import time
from typing import Any

from cloud_bridge.identity import rotation as machine
from cloud_bridge.identity.enrol import OpenTransport, connection_of, enrol, make_key_file
from cloud_bridge.identity.fleet import FleetProvisioningClient, ProvisioningError
from cloud_bridge.identity.keys import certificate_not_after
from cloud_bridge.identity.rotation import Action, Failure, Step
from cloud_bridge.identity.state import ActiveIdentity, IdentityDoc, IdentityStore
from cloud_bridge.identity.sweep import sweep
from cloud_bridge.identity.trial import trial_ping
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)
TRIAL_SUFFIX = "-trial"


@dataclass(frozen=True, slots=True)
class RotationSettings:
    """What a rotation needs to know about this bridge."""

    template: str
    contract_id: str
    instance_id: str
    client_id: str
    topic_prefix: str = "inx"
    margin: timedelta = timedelta(days=machine.DEFAULT_MARGIN_DAYS)
    jitter: float = 0.0
    timeout: float = 30.0

    @property
    def retire_topic(self) -> str:
        """Where the old certificate is reported for deactivation (docs/protocol.md)."""
        return f"{self.topic_prefix}/{self.contract_id}/certificate/retire"


type Switch = Callable[[ActiveIdentity], Awaitable[None]]
type StepHook = Callable[[Step], Awaitable[None]]


class Rotator:
    """One bridge's certificate rotation."""

    def __init__(
        self,
        store: IdentityStore,
        settings: RotationSettings,
        *,
        live: Callable[[], Any],
        open_transport: OpenTransport,
        switch: Switch,
        clock: Callable[[], float] = time.time,
        on_step: StepHook | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._live = live
        self._open = open_transport
        self._switch = switch
        self._clock = clock
        self._on_step = on_step
        self.doc = IdentityDoc()
        self.not_after: datetime | None = None
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ state

    async def load(self) -> IdentityDoc:
        """Read the document, drop leftovers of a killed step, read the expiry."""
        loop = asyncio.get_running_loop()
        self.doc = await loop.run_in_executor(None, self.store.load)
        await loop.run_in_executor(None, sweep, self.store, self.doc)
        await self.refresh_expiry()
        return self.doc

    async def refresh_expiry(self) -> None:
        """Read the active certificate's expiry."""
        active = self.doc.active
        if active is None:
            self.not_after = None
            return
        path = self.store.path(active.cert_file)
        loop = asyncio.get_running_loop()
        try:
            pem = await loop.run_in_executor(None, path.read_bytes)
            self.not_after = certificate_not_after(pem)
        except (OSError, ValueError):
            self.not_after = None

    async def _save(self, doc: IdentityDoc) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.store.save, doc)
        self.doc = doc
        if self._on_step is not None:
            await self._on_step(doc.rotation.step)

    def due(self) -> bool:
        """True when the active certificate is inside the margin (with this bridge's jitter)."""
        if self.not_after is None:
            return False
        now = datetime.fromtimestamp(self._clock(), UTC)
        return machine.rotation_due(
            self.not_after, now, margin=self.settings.margin, jitter=self.settings.jitter
        )

    def status(self) -> dict[str, Any]:
        """The identity part of the bridge's status document."""
        rotation = self.doc.rotation
        active = self.doc.active
        return {
            "thing_name": active.thing_name if active else None,
            "certificate_id": active.cert_id if active else None,
            "certificate_expires": self.not_after.isoformat() if self.not_after else None,
            "rotation_due": self.due(),
            "rotation": {
                "step": rotation.step.value,
                "requested": rotation.requested,
                "attempts": rotation.attempts,
                "retry_at": rotation.retry_at,
                "last_error": rotation.last_error.as_dict() if rotation.last_error else None,
            },
        }

    # ---------------------------------------------------------------- driving

    async def request(self) -> None:
        """Rotate now, whatever the expiry (button, API, CLI)."""
        doc = replace(self.doc, rotation=machine.request(self.doc.rotation))
        await self._save(doc)

    def next_action(self) -> Action:
        """What `run()` would do first."""
        return machine.next_action(self.doc.rotation, due=self.due(), now=self._clock())

    async def run(self) -> Action:
        """Run steps until one rotation is complete, none is due, or a failure backs off."""
        async with self._lock:
            while (action := self.next_action()) not in {Action.NOTHING, Action.WAIT}:
                try:
                    await self._execute(action)
                except (ProvisioningError, TransportError, OSError, ValueError) as err:
                    await self._failed(action, err)
                    return Action.WAIT
                if action is Action.REPORT_OLD:
                    return Action.NOTHING  # at most one rotation per run
            return action

    async def _execute(self, action: Action) -> None:
        rotation = self.doc.rotation
        if action is Action.MAKE_KEY:
            key_name = await make_key_file(self.store)
            await self._save(replace(self.doc, rotation=machine.key_made(rotation, key_name)))
        elif action is Action.REQUEST_CERTIFICATE:
            await self._request_certificate(rotation)
        elif action is Action.TRIAL:
            await self._trial_and_switch(rotation)
        elif action is Action.REPORT_OLD:
            await self._report_old(rotation)

    async def _request_certificate(self, rotation: machine.Rotation) -> None:
        assert rotation.key_file is not None
        client = FleetProvisioningClient(connection_of(self._live()), self.settings.timeout)
        parameters = {
            "ContractId": self.settings.contract_id,
            "InstanceId": self.settings.instance_id,
        }
        enrolled = await enrol(
            client, self.store, rotation.key_file, self.settings.template, parameters
        )
        rotation = machine.certificate_issued(rotation, enrolled.cert_id, enrolled.cert_file)
        await self._save(replace(self.doc, rotation=rotation))

    async def _trial_and_switch(self, rotation: machine.Rotation) -> None:
        assert rotation.cert_file
        assert rotation.key_file
        assert rotation.cert_id
        trial = self._open(
            self.store.path(rotation.cert_file),
            self.store.path(rotation.key_file),
            (self.doc.active.thing_name if self.doc.active else self.settings.client_id)
            + TRIAL_SUFFIX,
        )
        await trial_ping(trial, self.settings, timeout=self.settings.timeout)
        old = self.doc.active
        thing = old.thing_name if old else self.settings.client_id
        new = ActiveIdentity(thing, rotation.cert_id, rotation.cert_file, rotation.key_file)
        old_files = self._own_files(old)
        rotation = machine.switched(rotation, old.cert_id if old else "", old_files)
        await self._save(IdentityDoc(active=new, rotation=rotation))
        await self.refresh_expiry()
        _LOGGER.info("certificate rotated: now %s (was %s)", new.cert_id[:12], rotation.old_cert_id)
        await self._switch(new)

    def _own_files(self, old: ActiveIdentity | None) -> tuple[str, ...]:
        if old is None:
            return ()
        return tuple(
            name
            for name in (old.cert_file, old.key_file)
            if self.store.path(name).parent == self.store.directory
        )

    async def _report_old(self, rotation: machine.Rotation) -> None:
        active = self.doc.active
        assert active is not None
        packet = {
            "c": "Identity",
            "a": "retireCertificate",
            "cid": self.settings.contract_id,
            "iid": self.settings.instance_id,
            "thingName": active.thing_name,
            "certificateId": rotation.old_cert_id,
            "newCertificateId": active.cert_id,
            "ta": "certificate_retire",
        }
        await self._live().publish(self.settings.retire_topic, json.dumps(packet).encode(), 1)
        await self._save(replace(self.doc, rotation=machine.reported(rotation)))
        await asyncio.get_running_loop().run_in_executor(None, sweep, self.store, self.doc)
        _LOGGER.info("old certificate %s reported for deactivation", rotation.old_cert_id)

    async def _failed(self, action: Action, err: Exception) -> None:
        code = getattr(err, "code", "rotation_failed")
        failure = Failure(action.value, str(code), str(err), self._clock())
        _LOGGER.warning(
            "certificate rotation: %s failed (%s); staying on certificate %s, retry in %.0f s",
            action.value,
            err,
            self.doc.active.cert_id[:12] if self.doc.active else "none",
            machine.backoff(self.doc.rotation.attempts + 1),
        )
        stale = machine.discarded_files(self.doc.rotation)
        doc = replace(self.doc, rotation=machine.failed(self.doc.rotation, failure))
        await self._save(doc)
        with contextlib.suppress(OSError):
            await asyncio.get_running_loop().run_in_executor(None, self.store.remove, *stale)


def fresh_jitter() -> float:
    """This bridge's jitter: a random part of a day, chosen once per process."""
    return secrets.randbelow(int(machine.DEFAULT_JITTER_S * 1000)) / 1000.0
