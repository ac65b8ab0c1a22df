"""`call_service` from a command file passes the one admission every cloud command passes
(protocol/admission.py): the same packet checks, default-deny exposure, forbidden
services, one target, the time-to-live and de-duplication by a durable command id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import dataclasses
import secrets

from cloud_bridge.clock import SYSTEM_CLOCK, Clock
from cloud_bridge.protocol.action_packets import action_packet
from cloud_bridge.protocol.admission import AdmissionRules, Step, admit, read_command
from cloud_bridge.protocol.packets import encode
from cloud_bridge.storage import StorageError
from cloud_bridge.store_channel.verbs import Admission, JSONDict

STORE_COMMAND_TTL = 60.0  # an admitted call starts at once; this only bounds the check
type Exposed = Callable[[], Awaitable[list[str]]]
type Remember = Callable[[str, float], Awaitable[bool]]


def command_admission(
    rules: AdmissionRules, exposed: Exposed, remember: Remember, clock: Clock = SYSTEM_CLOCK
) -> Admission:
    """An admission callable: None when the call may run, else the reason it may not."""

    async def admit_call(service: str, entity_id: str, data: JSONDict) -> str | None:
        now = clock()
        packet = action_packet(
            command_id=f"store-{secrets.token_hex(8)}",
            contract_id=rules.contract_id,
            service=service,
            entity_id=entity_id,
            data=data,
            iat=now,
            ttl=min(STORE_COMMAND_TTL, rules.max_ttl),
        )
        facts = read_command(encode(packet), rules, now=now)
        while (decision := admit(facts, rules)).step is not Step.RUN:
            if decision.step is Step.LOAD_EXPOSURE:
                facts = dataclasses.replace(facts, exposed=await exposed())
            elif decision.step is Step.REMEMBER and facts.command is not None:
                until = decision.remember_until or now
                try:
                    fresh = await remember(facts.command.id, until)
                except StorageError as err:
                    facts = dataclasses.replace(facts, dedup_failure=str(err))
                else:
                    facts = dataclasses.replace(facts, fresh=fresh)
            elif decision.step is Step.ACCEPT:  # no result packet: the result file says it
                facts = dataclasses.replace(facts, accepted=True, now=clock())
            else:
                return decision.reason or decision.step.value
        return None

    return admit_call
