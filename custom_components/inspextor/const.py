"""Constants of the InspeXtor integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "inspextor"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "InspeXtor"

# Entry data. `entry_type` lets one domain hold two kinds of entries: a local site (this
# module) and, later, the cloud bridge. Setup branches on it.
CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_SITE: Final = "site"
CONF_BASE_TOPIC: Final = "base_topic"

# Entry options.
CONF_SITE_MAP: Final = "site_map"
CONF_COMMAND_TIMEOUT: Final = "command_timeout"
CONF_RETRIES: Final = "retries"

DEFAULT_BASE_TOPIC: Final = "inspextor"
DEFAULT_NAME: Final = "InspeXtor"
DEFAULT_COMMAND_TIMEOUT: Final = 3.0
DEFAULT_RETRIES: Final = 2

# The resync (`ask`) is repeated until the integration sees its own ask come back through
# the wildcard subscription, which proves the subscription was live when devices answered.
ASK_RETRY_DELAYS: Final = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0)

SERVICE_SEND_COMMAND: Final = "send_command"
ATTR_CAPABILITY: Final = "capability"
ATTR_VALUE: Final = "value"
ATTR_PENDING: Final = "pending"


def signal_new_device(entry_id: str) -> str:
    """Dispatcher signal sent when an announced device joins a site."""
    return f"{DOMAIN}_new_device_{entry_id}"
