"""A scripted home for dev cloud tests: speaks contract 1 with the protocol core's builders."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from cloud_bridge.protocol.action_packets import CommandStatus, result_packet
from cloud_bridge.protocol.packets import (
    ActivationAction,
    InstanceIdentity,
    activation_request,
    encode,
    ping_request,
)
from cloud_bridge.protocol.packing import PackContext, pack
from cloud_bridge.protocol.records import Lane, Record, state_record, structure_record
from cloud_bridge.protocol.topics import Topics
from tests.helpers.sim_observer import Observer

CONTRACT = "C1"
INSTANCE = "I1"
PASSWORD = "s3cret-pass"


class Home:
    """Publishes what the bridge would publish; `obs` sees everything on the broker."""

    def __init__(
        self,
        obs: Observer,
        contract: str = CONTRACT,
        instance: str = INSTANCE,
        password: str = PASSWORD,
    ) -> None:
        self.obs = obs
        self.topics = Topics.for_contract(contract)
        self.identity = InstanceIdentity(contract, instance, password, name="Test home")
        self.ctx = PackContext(contract, instance, password)
        self._req = itertools.count(1)
        self.seq = {lane: itertools.count(1) for lane in Lane}

    def activate(self, action: ActivationAction = ActivationAction.ACTIVATE) -> str:
        req = f"req-{next(self._req)}"
        packet = activation_request(self.identity, action, req, 1)
        self.obs.publish(self.topics.activate, encode(packet))
        return req

    def ping(self, seq: int) -> None:
        packet = ping_request(self.identity.contract_id, time.time(), seq)
        self.obs.publish(self.topics.ping, encode(packet))

    def state(
        self,
        lane: Lane,
        entity_id: str,
        state: str | None,
        seq: int | None = None,
        **attributes: Any,
    ) -> Record:
        return state_record(
            lane,
            seq=seq if seq is not None else next(self.seq[lane]),
            ts=time.time(),
            entity_id=entity_id,
            state=state,
            attributes=attributes,
        )

    def structure(
        self,
        *,
        seq: int | None = None,
        areas: list[dict[str, Any]] | None = None,
        devices: list[dict[str, Any]] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> Record:
        return structure_record(
            seq if seq is not None else next(self.seq[Lane.STRUCTURE]),
            time.time(),
            areas or [],
            devices or [],
            entities or [],
        )

    def packets(
        self, lane: Lane, records: list[Record], max_bytes: int | None = None
    ) -> list[bytes]:
        ctx = (
            self.ctx
            if max_bytes is None
            else PackContext(
                self.ctx.contract_id, self.ctx.instance_id, self.ctx.instance_password, max_bytes
            )
        )
        return pack(ctx, lane, records, time.time())

    def send(self, lane: Lane, records: list[Record], max_bytes: int | None = None) -> list[bytes]:
        packets = self.packets(lane, records, max_bytes)
        for packet in packets:
            self.obs.publish(self.topics.sync_topic(lane.value), packet)
        return packets

    def result(
        self,
        command_id: str,
        status: CommandStatus,
        state: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        packet = result_packet(
            command_id=command_id,
            contract_id=self.identity.contract_id,
            instance_id=self.identity.instance_id,
            status=status,
            ts=time.time(),
            reason=reason,
            state=state,
        )
        self.obs.publish(self.topics.result, json.dumps(packet))


KITCHEN_STRUCTURE: dict[str, list[dict[str, Any]]] = {
    "areas": [
        {"area_id": "kitchen", "name": "Kitchen"},
        {"area_id": "living", "name": "Living room"},
    ],
    "devices": [{"id": "dev-shade", "name": "Shade", "area_id": "living"}],
    "entities": [
        {"entity_id": "light.kitchen", "name": "Kitchen light", "area_id": "kitchen"},
        {
            "entity_id": "cover.living_shade",
            "original_name": "Living shade",
            "device_id": "dev-shade",
        },
        {"entity_id": "sensor.hall_temperature", "name": "Hall temperature"},
    ],
}
