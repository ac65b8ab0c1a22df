"""The bridge's identity: which certificate to connect with, provisioning, rotation.

At the first connect the manager names the certificate: the one in the identity folder
(provisioned or rotated earlier), else the manually installed one, else it provisions
by claim. Afterwards a loop rotates the certificate below the margin or on request,
switching the live transport only after a trial connection answered a ping.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import time
from typing import Any

from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.identity.enrol import OpenTransport, certificate_id
from cloud_bridge.identity.fleet import ProvisioningError
from cloud_bridge.identity.provisioning import ClaimSettings, provision_by_claim
from cloud_bridge.identity.rotation import Action
from cloud_bridge.identity.rotator import RotationSettings, Rotator
from cloud_bridge.identity.state import ActiveIdentity, IdentityStore
from cloud_bridge.identity.switching import SwitchableTransport
from cloud_bridge.tasks import cancel_and_wait
from cloud_bridge.transport.base import TransportError

_LOGGER = logging.getLogger(__name__)
CHECK_INTERVAL = 3600.0


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """The options the identity needs (from BridgeConfig)."""

    directory: Path
    cert_file: Path  # manual set-up
    key_file: Path
    claim_cert_file: Path
    claim_key_file: Path
    template: str  # empty: no zero-touch provisioning, no rotation
    rotation: RotationSettings

    @property
    def claim(self) -> ClaimSettings:
        """What provisioning by claim sends."""
        r = self.rotation
        return ClaimSettings(
            self.claim_cert_file,
            self.claim_key_file,
            self.template,
            r.contract_id,
            r.instance_id,
            f"claim-{r.instance_id}",
        )


class IdentityManager:
    """Owns the bridge's SwitchableTransport and its certificate's lifecycle."""

    def __init__(self, settings: IdentitySettings, open_transport: OpenTransport) -> None:
        self.settings = settings
        self.store = IdentityStore(settings.directory)
        self._open = open_transport
        self.transport = SwitchableTransport(
            open_transport, self._identify, settings.rotation.client_id
        )
        self.rotator = Rotator(
            self.store,
            settings.rotation,
            live=lambda: self.transport,
            open_transport=open_transport,
            switch=self._switch,
        )
        self.provisioning_error: dict[str, Any] | None = None
        self.errors: ErrorState | None = None  # the bridge's (factory.build_parts sets it)
        self.manual = False  # the certificate was installed by hand: rotated by hand too
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------- which certificate

    async def _identify(self) -> tuple[Path, Path]:
        doc = await self.rotator.load()
        if doc.active is not None and self.store.complete(doc.active):
            if not self._expired_with_a_claim():
                self.transport.client_id = doc.active.thing_name
                return self.store.path(doc.active.cert_file), self.store.path(doc.active.key_file)
            _LOGGER.warning(
                "the certificate %s expired on %s: provisioning again with the claim",
                doc.active.cert_id[:12],
                self.rotator.not_after,
            )
            return await self._provision()
        loop = asyncio.get_running_loop()
        manual = self.settings.cert_file, self.settings.key_file
        if all(await loop.run_in_executor(None, lambda: [p.is_file() for p in manual])):
            pem = await loop.run_in_executor(None, manual[0].read_bytes)
            thing = self.settings.rotation.client_id
            active = ActiveIdentity(thing, certificate_id(pem), str(manual[0]), str(manual[1]))
            self.rotator.doc = replace(doc, active=active)  # not saved: the files are the user's
            self.manual = True
            await self.rotator.refresh_expiry()
            return manual
        return await self._provision()

    def _expired_with_a_claim(self) -> bool:
        """The own certificate expired (the home was off past the margin) and a claim is set."""
        not_after = self.rotator.not_after
        if not_after is None or not_after > datetime.now(UTC) or not self.settings.template:
            return False
        return self.settings.claim_cert_file.is_file() and self.settings.claim_key_file.is_file()

    async def _provision(self) -> tuple[Path, Path]:
        claim = self.settings.claim
        if not self.settings.template:
            raise TransportError(
                f"no device certificate at {self.settings.cert_file} and no provisioning "
                "template set for zero-touch provisioning",
                "certificate_missing",
            )
        try:
            active = await provision_by_claim(claim, self.store, self._open)
        except ProvisioningError as err:
            self.provisioning_error = {"code": err.code, "message": str(err), "at": time.time()}
            for name in ("error_code", "status_code", "error_message"):
                if hasattr(err, name):
                    self.provisioning_error[name] = getattr(err, name)
            _LOGGER.error("provisioning by claim failed: %s", err)  # noqa: TRY400
            raise TransportError(f"provisioning by claim failed: {err}", err.code) from err
        except TransportError as err:
            self.provisioning_error = {"code": err.code, "message": str(err), "at": time.time()}
            raise TransportError(
                f"cannot connect with the claim certificate: {err}", err.code
            ) from err
        self.provisioning_error = None
        await self.rotator.load()
        self.transport.client_id = active.thing_name
        return self.store.path(active.cert_file), self.store.path(active.key_file)

    async def _switch(self, active: ActiveIdentity) -> None:
        await self.transport.switch(
            self.store.path(active.cert_file), self.store.path(active.key_file)
        )

    # -------------------------------------------------------------------- rotation

    @property
    def can_rotate(self) -> bool:
        """Rotation goes through the provisioning template, for a provisioned certificate."""
        return bool(self.settings.template) and not self.manual

    def start(self) -> None:
        """Start the rotation loop."""
        if self.can_rotate and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="certificate-rotation")

    async def stop(self) -> None:
        """Stop the rotation loop (a rotation under way resumes at the next start)."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            if self.transport.connected and self.can_rotate and self.rotator.doc.active:
                action = await self.rotator.run()
            else:
                action = Action.WAIT
            delay = CHECK_INTERVAL
            retry_at = self.rotator.doc.rotation.retry_at
            if action is Action.WAIT:
                delay = max(1.0, min(delay, (retry_at or time.time() + 5) - time.time()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def rotate_now(self) -> dict[str, Any]:
        """Rotate now and say how it went (local API, CLI, the HA button)."""
        if not self.can_rotate:
            reason = (
                "the certificate was installed by hand: replace it as docs/aws.md says"
                if self.manual
                else "rotation needs zero-touch provisioning (option provisioning_template)"
            )
            return {"ok": False, "reason": reason}
        await self.rotator.request()
        await self._run()
        error = self.rotator.doc.rotation.last_error
        ok = not self.rotator.doc.rotation.requested
        self._wake.set()
        return {"ok": ok, "reason": None if ok else (error.message if error else "retrying")}

    async def _run(self) -> Action:
        """Run the rotator; its failure (or recovery) is the identity part's error."""
        action = await self.rotator.run()
        error = self.rotator.doc.rotation.last_error
        if self.errors is not None:
            if error is not None:
                self.errors.report(
                    Part.IDENTITY, error.code, f"certificate rotation: {error.message}"
                )
            else:
                self.errors.clear(Part.IDENTITY)
        return action

    async def certificate_expires(self) -> str | None:
        """The status document's `certificate_expires`."""
        return self.rotator.not_after.isoformat() if self.rotator.not_after else None

    async def status_section(self) -> dict[str, Any]:
        """The status document's `identity`."""
        return self.status()

    def status(self) -> dict[str, Any]:
        """The identity part of `/api/status`."""
        return {
            **self.rotator.status(),
            "zero_touch": self.can_rotate,
            "margin_days": self.settings.rotation.margin / timedelta(days=1),
            "provisioning_error": self.provisioning_error,
            "last_switch_offline_ms": (
                round(self.transport.switches[-1].offline_s * 1000, 1)
                if self.transport.switches
                else None
            ),
        }
