"""Durable state of the bridge: one SQLite database in the data folder."""

from cloud_bridge.storage.store import OutboxRow, StorageError, Store

__all__ = ["OutboxRow", "StorageError", "Store"]
