"""Zero-touch provisioning by claim: the first start with only a claim certificate.

The bridge connects with the claim certificate (whose policy allows the provisioning
topics only), makes its own key, has the cloud sign its CSR, registers the thing through
the provisioning template, stores certificate and key in its data folder, and from then
on connects as the new thing. A bridge killed half-way simply provisions again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
import logging
from pathlib import Path

from cloud_bridge.identity.enrol import OpenTransport, connection_of, enrol, make_key_file
from cloud_bridge.identity.fleet import FleetProvisioningClient
from cloud_bridge.identity.state import ActiveIdentity, IdentityStore
from cloud_bridge.identity.sweep import sweep

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClaimSettings:
    """What the installer gives: the claim's files, the template and its parameters."""

    cert_file: Path
    key_file: Path
    template: str
    contract_id: str
    instance_id: str
    client_id: str

    @property
    def parameters(self) -> dict[str, str]:
        """The template's parameters."""
        return {"ContractId": self.contract_id, "InstanceId": self.instance_id}


async def provision_by_claim(
    claim: ClaimSettings,
    store: IdentityStore,
    open_transport: OpenTransport,
    *,
    timeout: float = 30.0,
) -> ActiveIdentity:
    """Provision the thing; raise ProvisioningError (rejections carry the cloud's reason)."""
    loop = asyncio.get_running_loop()
    transport = open_transport(claim.cert_file, claim.key_file, claim.client_id)
    await transport.connect()
    try:
        key_name = await make_key_file(store)
        client = FleetProvisioningClient(connection_of(transport), timeout)
        enrolled = await enrol(client, store, key_name, claim.template, claim.parameters)
    finally:
        await transport.disconnect()
    active = ActiveIdentity(enrolled.thing_name, enrolled.cert_id, enrolled.cert_file, key_name)
    doc = await loop.run_in_executor(None, store.load)
    doc = replace(doc, active=active)
    await loop.run_in_executor(None, store.save, doc)
    await loop.run_in_executor(None, sweep, store, doc)
    _LOGGER.info(
        "provisioned by claim: thing %s, certificate %s", active.thing_name, active.cert_id[:12]
    )
    return active
