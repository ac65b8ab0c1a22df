"""AWS IoT fleet provisioning, played by the dev cloud on a Mosquitto broker.

Answers `$aws/certificates/create-from-csr/json` and
`$aws/provisioning-templates/<name>/provision/json` with AWS's accepted/rejected payloads,
keeps a registry of things and certificates, and turns it into the broker's policy: an
ACL file (a claim certificate may use the provisioning topics only, an active thing
certificate its own contract's topics and the provisioning topics for rotation) and a CRL
(an inactive certificate is refused at the TLS handshake). A certificate reported on
`<prefix>/<ContractId>/certificate/retire` is marked inactive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import hashlib
import json
import logging
from pathlib import Path
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization

from cloud_bridge.identity.keys import write_atomic
from cloud_bridge.transport.base import CloudTransport, ConnectionEvent

from .ca import DevCA

_LOGGER = logging.getLogger(__name__)
CSR_TOPIC = "$aws/certificates/create-from-csr/json"
PROVISION_TOPIC = "$aws/provisioning-templates/{}/provision/json"
PARAMETERS = ("ContractId", "InstanceId")
CLAIM_RULES = (
    f"topic write {CSR_TOPIC}",
    f"topic read {CSR_TOPIC}/+",
    f"topic write {PROVISION_TOPIC.format('+')}",
    f"topic read {PROVISION_TOPIC.format('+')}/+",
)


@dataclass
class CertRecord:
    """A certificate the dev cloud issued."""

    cert_id: str
    common_name: str  # the broker's user name for it (use_identity_as_username)
    serial: int
    token: str
    status: str = "PENDING_ACTIVATION"
    thing: str | None = None
    contract_id: str | None = None


@dataclass(frozen=True)
class PolicyFiles:
    """Where the broker reads its policy from, and how to make it reread it."""

    acl: Path
    crl: Path
    reload: Callable[[], Awaitable[None]]


class FleetProvisioning:
    """The fleet provisioning service and certificate registry of the dev cloud."""

    def __init__(
        self,
        ca: DevCA,
        transport: CloudTransport,
        policy: PolicyFiles,
        *,
        templates: frozenset[str],
        superuser: str,
        prefix: str = "inx",
        cert_days: float = 365,
    ) -> None:
        self.ca = ca
        self.transport = transport
        self.policy = policy
        self.templates = templates
        self.superuser = superuser
        self.prefix = prefix
        self.cert_days = cert_days
        self.claims: set[str] = set()
        self.certs: dict[str, CertRecord] = {}
        self.things: dict[str, str] = {}  # thing name -> contract id
        self.retired: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Write the policy, connect and listen to the provisioning and retire topics."""
        await self.write_policy()
        self.transport.set_handlers(self._on_message, _ignore)
        await self.transport.connect()
        for topic in (
            CSR_TOPIC,
            PROVISION_TOPIC.format("+"),
            f"{self.prefix}/+/certificate/retire",
        ):
            await self.transport.subscribe(topic, 1)

    async def stop(self) -> None:
        """Disconnect."""
        await self.transport.disconnect()

    async def allow_claim(self, common_name: str) -> None:
        """Let a claim certificate (by its CN) use the provisioning topics."""
        self.claims.add(common_name)
        await self.write_policy()

    def active_for(self, thing: str) -> list[str]:
        """The ids of a thing's active certificates."""
        return [c.cert_id for c in self.certs.values() if c.thing == thing and c.status == "ACTIVE"]

    # ------------------------------------------------------------------ policy

    def _acl(self) -> str:
        lines = [f"user {self.superuser}", "topic readwrite #", "topic readwrite $aws/#", ""]
        for claim in sorted(self.claims):
            lines += [f"user {claim}", *CLAIM_RULES, ""]
        for cert in self.certs.values():
            if cert.status != "ACTIVE":
                continue
            lines += [
                f"user {cert.common_name}",
                f"topic write {self.prefix}/activate",
                f"topic write {self.prefix}/ping",
                f"topic write {self.prefix}/instance/return",
                f"topic readwrite {self.prefix}/{cert.contract_id}/#",
                *CLAIM_RULES,
                "",
            ]
        return "\n".join(lines) + "\n"

    async def write_policy(self) -> None:
        """Rewrite the ACL and the CRL, then have the broker reread them."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, write_atomic, self.policy.acl, self._acl().encode())
        await loop.run_in_executor(None, self.ca.write_crl, self.policy.crl)
        await self.policy.reload()

    # --------------------------------------------------------------- handlers

    def _on_message(self, topic: str, payload: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(topic, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, topic: str, payload: bytes) -> None:
        try:
            body = json.loads(payload)
        except ValueError:
            body = None
        if topic == CSR_TOPIC:
            await self._answer(topic, self._create_from_csr(body))
        elif topic.startswith("$aws/provisioning-templates/"):
            template = topic.split("/")[2]
            answer = self._register(template, body)
            if answer[0]:
                await self.write_policy()  # the new certificate may connect once answered
            await self._answer(topic, answer)
        elif topic.endswith("/certificate/retire"):
            await self._retire(topic.split("/")[-3], body)

    async def _answer(self, topic: str, answer: tuple[bool, dict[str, Any]]) -> None:
        ok, body = answer
        await self.transport.publish(
            f"{topic}/{'accepted' if ok else 'rejected'}", json.dumps(body).encode(), 1
        )

    def _create_from_csr(self, body: Any) -> tuple[bool, dict[str, Any]]:
        csr = body.get("certificateSigningRequest") if isinstance(body, dict) else None
        if not isinstance(csr, str):
            return False, _error(400, "InvalidParameters", "certificateSigningRequest is missing")
        common_name = f"cert-{secrets.token_hex(8)}"
        try:
            cert = self.ca.sign_csr(csr, common_name, days=self.cert_days)
        except ValueError as err:
            return False, _error(400, "InvalidCSR", f"the CSR is not valid: {err}")
        der = cert.public_bytes(serialization.Encoding.DER)
        cert_id = hashlib.sha256(der).hexdigest()
        token = secrets.token_urlsafe(24)
        self.certs[cert_id] = CertRecord(cert_id, common_name, cert.serial_number, token)
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        return True, {
            "certificateId": cert_id,
            "certificatePem": pem,
            "certificateOwnershipToken": token,
        }

    def _register(self, template: str, body: Any) -> tuple[bool, dict[str, Any]]:
        if template not in self.templates:
            return False, _error(404, "NotFound", f"Template {template} not found")
        if not isinstance(body, dict):
            return False, _error(400, "InvalidParameters", "the request is not a JSON object")
        token = body.get("certificateOwnershipToken")
        cert = next((c for c in self.certs.values() if c.token == token), None)
        if cert is None or cert.status != "PENDING_ACTIVATION":
            return False, _error(
                400, "InvalidCertificateOwnershipToken", "Certificate ownership token is invalid"
            )
        params = body.get("parameters")
        missing = [p for p in PARAMETERS if not isinstance(params, dict) or not params.get(p)]
        if missing or not isinstance(params, dict):
            return False, _error(
                400, "InvalidParameters", f"Missing template parameters: {', '.join(missing)}"
            )
        thing = f"{params['ContractId']}-{params['InstanceId']}"
        if self.things.get(thing, params["ContractId"]) != params["ContractId"]:
            return False, _error(403, "Forbidden", f"thing {thing} belongs to another contract")
        self.things[thing] = params["ContractId"]
        cert.status, cert.thing, cert.contract_id = "ACTIVE", thing, params["ContractId"]
        return True, {"thingName": thing, "deviceConfiguration": {}}

    async def _retire(self, contract_id: str, body: Any) -> None:
        if not isinstance(body, dict):
            return
        old = self.certs.get(str(body.get("certificateId")))
        new = self.certs.get(str(body.get("newCertificateId")))
        if old is None or new is None or new.status != "ACTIVE" or old.thing != new.thing:
            _LOGGER.warning("ignored a retire report that does not match the registry: %s", body)
            return
        if old.contract_id != contract_id or old.status == "INACTIVE":
            return
        old.status = "INACTIVE"
        self.ca.revoked.add(old.serial)
        self.retired.append(old.cert_id)
        await self.write_policy()
        _LOGGER.info("certificate %s of %s is inactive now", old.cert_id[:12], old.thing)


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"statusCode": status, "errorCode": code, "errorMessage": message}


def _ignore(_event: ConnectionEvent) -> None:
    return None
