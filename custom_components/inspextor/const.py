"""Constants of the InspeXtor integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from typing import TypeIs

    from homeassistant.config_entries import ConfigEntry

    from .bridge_coordinator import BridgeConfigEntry
    from .site import SiteConfigEntry

DOMAIN: Final = "inspextor"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "InspeXtor"

# Entry data. `entry_type` lets one domain hold several kinds of entries: a local MQTT site
# and the cloud bridge (the add-on's local API). entry_kinds.py maps each to its behaviour.
CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_SITE: Final = "site"
ENTRY_TYPE_BRIDGE: Final = "bridge"
# A things_sync site (controllers over UDP, no broker); its options hold the site file.
ENTRY_TYPE_THINGS: Final = "things_sync"
CONF_SITE_FILE: Final = "site_file"
CONF_BASE_TOPIC: Final = "base_topic"
# A bridge entry's data holds CONF_HOST, CONF_PORT and CONF_TOKEN (homeassistant.const).

# Entry options.
CONF_SITE_MAP: Final = "site_map"
CONF_COMMAND_TIMEOUT: Final = "command_timeout"
CONF_RETRIES: Final = "retries"

# Bridge entry options: the entities the cloud may control (the bridge's allow-list).
CONF_EXPOSED_ENTITIES: Final = "exposed_entities"

DEFAULT_BRIDGE_PORT: Final = 9998
BRIDGE_NAME: Final = "InspeXtor cloud bridge"
BRIDGE_SCAN_INTERVAL: Final = timedelta(seconds=15)
# A repair issue warns this long before the bridge's certificate expires.
CERTIFICATE_WARNING: Final = timedelta(days=30)

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
ATTR_HELD_UNTIL: Final = "held_until"

# Interactions (issue 13): the analysis service and the thrash guard's site option
# (hold automation commands to a thrashing entity; on unless the option says false).
SERVICE_CHECK_INTERACTIONS: Final = "check_interactions"
CONF_THRASH_HOLD: Final = "thrash_hold"


def signal_new_device(entry_id: str) -> str:
    """Dispatcher signal sent when an announced device joins a site."""
    return f"{DOMAIN}_new_device_{entry_id}"


def signal_kind_changed(entry_id: str) -> str:
    """Dispatcher signal sent when an announced device of a site announces another kind."""
    return f"{DOMAIN}_kind_changed_{entry_id}"


def entry_type(entry: ConfigEntry[Any]) -> str:
    """The entry's kind (`entry_type`); entries made before it existed are sites."""
    return str(entry.data.get(CONF_ENTRY_TYPE, ENTRY_TYPE_SITE))


def is_site_entry(entry: ConfigEntry[Any]) -> TypeIs[SiteConfigEntry]:
    """An InspeXtor MQTT site entry: its runtime data is an `InspextorSite`."""
    return entry.domain == DOMAIN and entry_type(entry) == ENTRY_TYPE_SITE


def is_bridge_entry(entry: ConfigEntry[Any]) -> TypeIs[BridgeConfigEntry]:
    """A cloud bridge entry: its runtime data is a `BridgeCoordinator`."""
    return entry.domain == DOMAIN and entry_type(entry) == ENTRY_TYPE_BRIDGE
