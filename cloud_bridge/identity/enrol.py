"""The steps provisioning and rotation share: a key made at home, a certificate for it.

Blocking file and crypto work runs in the default executor; the cloud exchanges go over
an awscrt connection through `FleetProvisioningClient`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import hashlib
from pathlib import Path
import secrets
from typing import Protocol

from awscrt import mqtt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cloud_bridge.identity.fleet import FleetProvisioningClient, ProvisioningError
from cloud_bridge.identity.keys import certificate_matches_key, key_pem, load_key, make_csr, new_key
from cloud_bridge.identity.state import IdentityStore
from cloud_bridge.transport.base import CloudTransport


class IdentityTransport(CloudTransport, Protocol):
    """A cloud transport that lends its awscrt connection to the identity client."""

    @property
    def mqtt_connection(self) -> mqtt.Connection | None:
        """The live awscrt connection (None while not connected)."""


class OpenTransport(Protocol):
    """Builds a transport that connects with the given certificate and key."""

    def __call__(self, cert_file: Path, key_file: Path, client_id: str) -> IdentityTransport:
        """A new, not yet connected transport."""


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the cloud gave for a key: a registered certificate and the thing's name."""

    cert_id: str
    cert_file: str
    thing_name: str


def certificate_id(pem: bytes) -> str:
    """AWS IoT's certificate id: the SHA-256 of the certificate's DER form, in hex."""
    cert = x509.load_pem_x509_certificate(pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _write_new_key(store: IdentityStore) -> str:
    name = f"key-{secrets.token_hex(6)}.pem.key"
    store.write_key(name, key_pem(new_key()))
    return name


async def make_key_file(store: IdentityStore) -> str:
    """Make a new key in the identity folder (0600, atomically); return its name."""
    return await asyncio.get_running_loop().run_in_executor(None, _write_new_key, store)


def _csr_for(store: IdentityStore, key_name: str, common_name: str) -> str:
    return make_csr(load_key(store.path(key_name)), common_name)


def _store_certificate(store: IdentityStore, key_name: str, pem: str) -> str:
    if not certificate_matches_key(pem, load_key(store.path(key_name))):
        raise ProvisioningError(
            "the certificate the cloud issued is not for our key", "certificate_mismatch"
        )
    name = f"cert-{certificate_id(pem.encode())[:16]}.pem.crt"
    store.write_cert(name, pem.encode())
    return name


async def enrol(
    client: FleetProvisioningClient,
    store: IdentityStore,
    key_name: str,
    template: str,
    parameters: dict[str, str],
) -> Enrolment:
    """CSR for the key, certificate from the cloud, thing registered, certificate stored."""
    loop = asyncio.get_running_loop()
    common_name = parameters.get("InstanceId") or "inspextor-bridge"
    csr = await loop.run_in_executor(None, _csr_for, store, key_name, common_name)
    issued = await client.create_certificate(csr)
    thing = await client.register_thing(template, issued.ownership_token, parameters)
    cert_name = await loop.run_in_executor(
        None, _store_certificate, store, key_name, issued.certificate_pem
    )
    return Enrolment(issued.certificate_id, cert_name, thing.thing_name)


def connection_of(transport: IdentityTransport) -> mqtt.Connection:
    """The transport's awscrt connection; ProvisioningError while it is down."""
    connection = transport.mqtt_connection
    if connection is None or not transport.connected:
        raise ProvisioningError("not connected to the cloud", "not_connected")
    return connection
