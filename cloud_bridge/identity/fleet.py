"""AWS IoT fleet provisioning over MQTT, through awsiotsdk's own IotIdentityClient.

For each operation the client subscribes to `accepted` and `rejected` first (and waits
for both SUBACKs), then publishes the request, then waits for one answer. awscrt calls
back on its own thread; the callbacks only hand the answer to the asyncio loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import concurrent.futures
import contextlib
from dataclasses import dataclass, field
from typing import Any

from awscrt import mqtt
from awsiot import iotidentity

QOS = mqtt.QoS.AT_LEAST_ONCE
type Subscribe = Callable[[Callable[[Any], None]], tuple[concurrent.futures.Future[Any], str]]


class ProvisioningError(Exception):
    """A provisioning exchange failed; `code` is machine-readable, str(self) for people."""

    def __init__(self, message: str, code: str = "provisioning_failed") -> None:
        super().__init__(message)
        self.code = code


class ProvisioningRejected(ProvisioningError):
    """The cloud answered on `rejected`: its status, error code and message are kept."""

    def __init__(
        self, operation: str, status_code: int | None, error_code: str, error_message: str
    ) -> None:
        super().__init__(
            f"{operation} rejected by the cloud: {error_code} ({status_code}): {error_message}",
            "provisioning_rejected",
        )
        self.operation = operation
        self.status_code = status_code
        self.error_code = error_code
        self.error_message = error_message


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A certificate the cloud signed from our CSR."""

    certificate_id: str
    certificate_pem: str
    ownership_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RegisteredThing:
    """What RegisterThing answered."""

    thing_name: str
    device_configuration: dict[str, str]


class FleetProvisioningClient:
    """CreateCertificateFromCsr and RegisterThing on an awscrt MQTT connection."""

    def __init__(self, connection: mqtt.Connection, timeout: float = 30.0) -> None:
        self._client = iotidentity.IotIdentityClient(connection)
        self._timeout = timeout

    async def create_certificate(self, csr_pem: str) -> IssuedCertificate:
        """Have the cloud sign `csr_pem` (the key stays home)."""
        sub = iotidentity.CreateCertificateFromCsrSubscriptionRequest()
        request = iotidentity.CreateCertificateFromCsrRequest(certificate_signing_request=csr_pem)
        response = await self._exchange(
            "CreateCertificateFromCsr",
            lambda cb: self._client.subscribe_to_create_certificate_from_csr_accepted(sub, QOS, cb),
            lambda cb: self._client.subscribe_to_create_certificate_from_csr_rejected(sub, QOS, cb),
            lambda: self._client.publish_create_certificate_from_csr(request, QOS),
        )
        if not (
            response.certificate_id
            and response.certificate_pem
            and response.certificate_ownership_token
        ):
            raise ProvisioningError("CreateCertificateFromCsr answered without a certificate")
        return IssuedCertificate(
            response.certificate_id,
            response.certificate_pem,
            response.certificate_ownership_token,
        )

    async def register_thing(
        self, template: str, ownership_token: str, parameters: dict[str, str]
    ) -> RegisteredThing:
        """Register (or update) the thing through the provisioning template."""
        sub = iotidentity.RegisterThingSubscriptionRequest(template_name=template)
        request = iotidentity.RegisterThingRequest(
            template_name=template,
            certificate_ownership_token=ownership_token,
            parameters=parameters,
        )
        response = await self._exchange(
            "RegisterThing",
            lambda cb: self._client.subscribe_to_register_thing_accepted(sub, QOS, cb),
            lambda cb: self._client.subscribe_to_register_thing_rejected(sub, QOS, cb),
            lambda: self._client.publish_register_thing(request, QOS),
        )
        if not response.thing_name:
            raise ProvisioningError("RegisterThing answered without a thing name")
        return RegisteredThing(response.thing_name, dict(response.device_configuration or {}))

    async def _exchange(
        self,
        operation: str,
        accepted: Subscribe,
        rejected: Subscribe,
        publish: Callable[[], concurrent.futures.Future[Any]],
    ) -> Any:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[bool, Any]] = loop.create_future()

        def settle(ok: bool) -> Callable[[Any], None]:
            def on_answer(event: Any) -> None:  # pragma: no cover - awscrt's thread
                loop.call_soon_threadsafe(_resolve, answer, ok, event)

            return on_answer

        topics: list[str] = []
        try:
            async with asyncio.timeout(self._timeout):
                for subscribe, ok in ((accepted, True), (rejected, False)):
                    future, topic = subscribe(settle(ok))
                    topics.append(topic)
                    if await asyncio.wrap_future(future) is None:
                        raise ProvisioningError(
                            f"the broker refused the subscription to {topic} "
                            "(does the policy allow the provisioning topics?)",
                            "provisioning_not_authorised",
                        )
                await asyncio.wrap_future(publish())
                ok, event = await answer
        except TimeoutError as err:
            raise ProvisioningError(
                f"{operation}: no answer from the cloud within {self._timeout:g} s",
                "provisioning_timeout",
            ) from err
        finally:
            for topic in topics:
                with contextlib.suppress(Exception):
                    self._client.unsubscribe(topic)
        return _outcome(operation, ok, event)


def _resolve(future: asyncio.Future[tuple[bool, Any]], ok: bool, event: Any) -> None:
    if not future.done():
        future.set_result((ok, event))


def _outcome(operation: str, ok: bool, event: Any) -> Any:
    if event is None:
        raise ProvisioningError(f"{operation}: the cloud's answer was not valid JSON")
    if not ok:
        raise ProvisioningRejected(
            operation,
            event.status_code,
            event.error_code or "unknown",
            event.error_message or "no message",
        )
    return event
