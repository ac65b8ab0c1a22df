"""The status document of the local API (`GET /api/status`, docs/protocol.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from cloud_bridge import __version__
from cloud_bridge.cloud_link import CloudLink
from cloud_bridge.config import BridgeConfig
from cloud_bridge.error_state import ErrorState, Part
from cloud_bridge.ha.base import HomeAssistantAPI
from cloud_bridge.ping import PingManager
from cloud_bridge.scope_sync import ScopeSync
from cloud_bridge.storage import StorageError, Store
from cloud_bridge.sync import SyncEngine

type Section = Callable[[], Awaitable[Any]]


class StatusBuilder:
    """Builds the status document from the parts; more parts add `sections`."""

    def __init__(
        self,
        config: BridgeConfig,
        *,
        store: Store,
        ha: HomeAssistantAPI,
        link: CloudLink,
        scope: ScopeSync,
        ping: PingManager,
        sync: SyncEngine,
        errors: ErrorState,
    ) -> None:
        self.config = config
        self.store = store
        self.ha = ha
        self.link = link
        self.scope = scope
        self.ping = ping
        self.sync = sync
        self.errors = errors
        self.certificate_expires: str | None = None
        # name -> coroutine function giving that key's value (a new part's own section)
        self.sections: dict[str, Section] = {}

    async def read_certificate(self) -> None:
        """Read the device certificate's expiry (the aws_iot transport has one)."""
        if self.config.transport != "aws_iot":
            return
        try:
            from cloud_bridge.transport.certs import certificate_expiry  # noqa: PLC0415
        except ImportError:  # pragma: no cover - cryptography is part of the add-on image
            return
        expiry: datetime | None = await asyncio.get_running_loop().run_in_executor(
            None, certificate_expiry, self.config.cert_file
        )
        self.certificate_expires = expiry.isoformat() if expiry else None

    async def build(self) -> dict[str, Any]:
        """The document; reading it never changes another part's error."""
        self.scope.check_ha()
        try:
            activation = await self.store.get("activation", {})
            subscription = await self.store.get("subscription", {})
            outbox = await self.store.counts()
        except StorageError as err:
            self.errors.report(Part.STORAGE, err.code, str(err))
            activation, subscription, outbox = {}, {}, {}
        kick = self.link.kick_loop
        worst = self.errors.most_severe
        document: dict[str, Any] = {
            "contract_id": self.config.contract_id,
            "instance_id": self.config.instance_id,
            # subscribed too (online follows the CONNECTED event sent after the
            # SUBACKs): a command published once this is true is received
            "cloud_connected": self.link.online and self.link.transport.connected,
            "ha_connected": self.ha.connected,
            "activation": {
                "state": activation.get("state", "never"),
                "last_attempt": activation.get("last_attempt"),
                "reason": activation.get("reason"),
            },
            "subscription": {
                "state": subscription.get("state", "none"),
                "expires": subscription.get("expires"),
            },
            "ping": {"last_rtt_ms": self.ping.last_rtt_ms, "last_success": self.ping.last_success},
            "outbox": {
                "structure": outbox.get("structure", 0),
                "high": outbox.get("high", 0),
                "low": outbox.get("low", 0),
                "dropped_low": outbox.get("dropped_low", 0) + self.sync.dropped_low,
            },
            "last_error": {**worst.as_dict(), "part": worst.part.value} if worst else None,
            "errors": self.errors.as_dict(),
            "certificate_expires": self.certificate_expires,
            "kick_loop": kick,
            "version": __version__,
        }
        for key, section in self.sections.items():
            document[key] = await section()
        return document
