"""Every topic of contract 1, derived from the prefix and the contract id."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "inx"


def _check_level(value: str, what: str) -> None:
    if not value or any(ch in value for ch in "/+#\x00"):
        raise ValueError(f"{what} must be a non-empty topic level without '/', '+' or '#'")


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics one home (contract) uses; build with `Topics.for_contract`."""

    prefix: str
    contract_id: str

    @classmethod
    def for_contract(cls, contract_id: str, prefix: str = DEFAULT_PREFIX) -> Topics:
        """Validate both parts and return the topic set."""
        _check_level(prefix, "topic prefix")
        _check_level(contract_id, "contract id")
        return cls(prefix, contract_id)

    # home -> cloud (shared upstream topics)
    @property
    def activate(self) -> str:
        """Activation and deregistration requests."""
        return f"{self.prefix}/activate"

    @property
    def activate_cloud(self) -> str:
        """Where the AWS rule republishes activation requests."""
        return f"{self.prefix}/activate/cloud"

    @property
    def ping(self) -> str:
        """Ping requests."""
        return f"{self.prefix}/ping"

    @property
    def ping_cloud(self) -> str:
        """Where the AWS rule republishes pings."""
        return f"{self.prefix}/ping/cloud"

    @property
    def result(self) -> str:
        """Command results (`inx/instance/return`)."""
        return f"{self.prefix}/instance/return"

    @property
    def sync_high(self) -> str:
        """Structure and high-priority sync packets."""
        return f"{self.prefix}/{self.contract_id}/send_sync_query_high"

    @property
    def sync_low(self) -> str:
        """Low-priority sync packets."""
        return f"{self.prefix}/{self.contract_id}/send_sync_query_low"

    # cloud -> home (the only topics the bridge subscribes to)
    @property
    def activate_reply(self) -> str:
        """Activation/deregistration replies for this contract."""
        return f"{self.prefix}/{self.contract_id}/activate"

    @property
    def ping_reply(self) -> str:
        """Ping replies for this contract."""
        return f"{self.prefix}/{self.contract_id}/ping"

    @property
    def action(self) -> str:
        """Commands for this contract."""
        return f"{self.prefix}/{self.contract_id}/action"

    @property
    def home_subscriptions(self) -> tuple[str, str, str]:
        """Exactly what the bridge subscribes to (never a wildcard)."""
        return (self.activate_reply, self.ping_reply, self.action)

    def sync_topic(self, lane: str) -> str:
        """The sync topic of a lane: structure and high share `_high`, low uses `_low`."""
        return self.sync_low if lane == "low" else self.sync_high


def contract_of(topic: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str] | None:
    """Split `<prefix>/<cid>/<leaf>` into (cid, leaf); None for any other shape."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != prefix or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
