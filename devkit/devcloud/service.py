"""The dev cloud: AWS IoT Core's rules plus the InspeXtor cloud, on a local broker.

Rules republish `inx/activate` -> `inx/activate/cloud` and `inx/ping` -> `inx/ping/cloud`
exactly as the AWS rules do; the cloud service consumes only the `/cloud` topics, checks
contracts, ingests sync packets idempotently and sends commands, tracking their results.
Every applied record and every command result is pushed to listeners (the web page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import functools
import json
import logging
from pathlib import Path
import secrets
import ssl
import time
from typing import Any

from cloud_bridge.protocol.action_packets import ORIGINS, CommandStatus, action_packet
from cloud_bridge.protocol.packets import (
    ActivationAction,
    PacketError,
    SyncHeader,
    activation_reply,
    decode,
    encode,
    parse_activation_request,
    parse_sync_packet,
    ping_reply,
)
from cloud_bridge.protocol.packing import unzip_records
from cloud_bridge.protocol.rule_packets import rule_packet
from cloud_bridge.protocol.topics import DEFAULT_PREFIX, Topics, contract_of
from cloud_bridge.store_channel.backend import ObjectStore
from cloud_bridge.store_channel.nudge import nudge_packet
from devkit.simulator.mqtt_loop import AsyncMqttClient

from .store import AsyncStore, Contract, JSONDict, Store
from .store_desk import StoreDesk

_LOGGER = logging.getLogger(__name__)

type Handler = Callable[[bytes], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """A contract given on the command line: C:INSTANCE:PASSWORD:state:expiry-date."""

    contract_id: str
    instance_id: str
    password: str
    state: str
    expires: str | None

    @classmethod
    def parse(cls, text: str) -> ContractSpec:
        """Parse `C:INSTANCE:PASSWORD:active:2027-01-01` (state and expiry optional)."""
        parts = text.split(":")
        if len(parts) < 3 or not all(parts[:3]):
            raise ValueError("contract must be C:INSTANCE:PASSWORD[:state[:YYYY-MM-DD]]")
        state = parts[3] if len(parts) > 3 and parts[3] else "active"
        if state not in ("active", "expired", "none"):
            raise ValueError(f"contract state must be active, expired or none, not {state!r}")
        expires = None
        if len(parts) > 4 and parts[4]:
            day = datetime.strptime(parts[4], "%Y-%m-%d").replace(tzinfo=UTC)
            expires = day.isoformat().replace("+00:00", "Z")
        return cls(parts[0], parts[1], parts[2], state, expires)


class DevCloud:
    """The rules and the cloud service on one MQTT connection."""

    def __init__(
        self,
        host: str,
        port: int,
        db_path: Path | str,
        prefix: str = DEFAULT_PREFIX,
        *,
        tls: ssl.SSLContext | None = None,
    ):
        self.prefix = prefix
        self.store = AsyncStore(db_path)
        self.client = AsyncMqttClient(
            host, port, f"inx-devcloud-{secrets.token_hex(3)}", self._on_message, tls=tls
        )
        self._listeners: set[asyncio.Queue[JSONDict]] = set()
        self._work: asyncio.Queue[tuple[Handler, bytes]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.rejected_packets = 0
        self.desk: StoreDesk | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, contracts: list[ContractSpec] | None = None) -> None:
        """Open the database, add the given contracts, connect and subscribe."""
        await self.store.open()
        for spec in contracts or []:
            await self.add_contract(spec)
        p = self.prefix
        for topic in (
            f"{p}/activate",
            f"{p}/ping",
            f"{p}/activate/cloud",
            f"{p}/ping/cloud",
            f"{p}/+/send_sync_query_high",
            f"{p}/+/send_sync_query_low",
            f"{p}/instance/return",
        ):
            await self.client.subscribe(topic, 1)
        self._worker = asyncio.get_running_loop().create_task(self._work_loop())
        await self.client.connect()
        _LOGGER.info("dev cloud on %s:%d, prefix %s", self.client.host, self.client.port, p)

    async def stop(self) -> None:
        """Disconnect and close the database."""
        await self.client.disconnect()
        if self._worker is not None:
            self._worker.cancel()
        await self.store.close()

    async def add_contract(self, spec: ContractSpec) -> None:
        """Create or replace a contract."""
        await self.store.run(
            Store.upsert_contract,
            spec.contract_id,
            spec.instance_id,
            spec.password,
            spec.state,
            spec.expires,
        )

    # -- push --------------------------------------------------------------------------

    def listen(self) -> asyncio.Queue[JSONDict]:
        """A queue receiving every event; call `unlisten` when done."""
        queue: asyncio.Queue[JSONDict] = asyncio.Queue(maxsize=1000)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[JSONDict]) -> None:
        """Stop delivering events to a queue."""
        self._listeners.discard(queue)

    def close_listeners(self) -> None:
        """Tell every listener to finish (server shutdown): each receives {"type": "closed"}."""
        for queue in list(self._listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait({"type": "closed"})
        self._listeners.clear()

    def _emit(self, event: JSONDict) -> None:
        for queue in list(self._listeners):
            if queue.full():
                _LOGGER.warning("a slow listener lost an event")
                continue
            queue.put_nowait(event)

    # -- incoming ----------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes) -> None:
        p = self.prefix
        # The rules engine: republish unchanged, as the AWS IoT rule does.
        if topic == f"{p}/activate":
            self.client.publish(f"{p}/activate/cloud", payload, 1)
        elif topic == f"{p}/ping":
            self.client.publish(f"{p}/ping/cloud", payload, 1)
        elif topic == f"{p}/activate/cloud":
            self._work.put_nowait((self._handle_activation, payload))
        elif topic == f"{p}/ping/cloud":
            self._work.put_nowait((self._handle_ping, payload))
        elif topic == f"{p}/instance/return":
            self._work.put_nowait((self._handle_result, payload))
        else:
            parts = contract_of(topic, p)
            if parts is not None and parts[1].startswith("send_sync_query_"):
                self._work.put_nowait((functools.partial(self._handle_sync, parts[0]), payload))

    async def _work_loop(self) -> None:
        # One at a time, in arrival order: the same order the home published in.
        while True:
            handler, payload = await self._work.get()
            try:
                await handler(payload)
            except Exception:
                _LOGGER.exception("dev cloud failed to handle a message")

    async def _handle_activation(self, payload: bytes) -> None:
        try:
            request = parse_activation_request(decode(payload))
        except PacketError as err:
            self.rejected_packets += 1
            _LOGGER.warning("activation packet refused: %s", err)
            return
        ident = request.identity
        contract = await self.store.run(Store.contract, ident.contract_id)
        ok = contract is not None and await self.store.run(
            Store.check_instance, ident.contract_id, ident.instance_id, ident.instance_password
        )
        reason: str | None = None
        if contract is None:
            reason = "unknown contract"
        elif not ok:
            reason = "instance id or password does not match the contract"
        elif request.action is ActivationAction.ACTIVATE and contract.state != "active":
            reason = f"subscription is {contract.state}"
        success = reason is None
        if success:
            activated = request.action is ActivationAction.ACTIVATE
            await self.store.run(Store.set_activated, ident.contract_id, activated)
        await self.store.run(
            functools.partial(
                Store.log_activation,
                action=request.action.value,
                req=request.req,
                attempt=request.attempt,
                status="success" if success else "failed",
                reason=reason,
            ),
            ident.contract_id,
        )
        reply = activation_reply(
            request.action,
            request.req,
            success=success,
            reason=reason,
            subscription_state=contract.state if contract and ok else "none",
            subscription_expires=contract.expires if contract and ok else None,
        )
        topics = Topics.for_contract(ident.contract_id, self.prefix)
        self.client.publish(topics.activate_reply, encode(reply), 1)
        _LOGGER.info(
            "%s %s: %s%s",
            request.action.value,
            ident.contract_id,
            reply["status"],
            f" ({reason})" if reason else "",
        )
        self._emit({"type": "activation", "contract_id": ident.contract_id, **reply})

    async def _handle_ping(self, payload: bytes) -> None:
        try:
            request = decode(payload)
            reply = ping_reply(request, time.time())
            topics = Topics.for_contract(reply["contract_id"], self.prefix)
        except (PacketError, ValueError) as err:
            self.rejected_packets += 1
            _LOGGER.warning("ping refused: %s", err)
            return
        if await self.store.run(Store.contract, reply["contract_id"]) is None:
            _LOGGER.warning("ping from unknown contract %s ignored", reply["contract_id"])
            return
        await self.store.run(Store.set_last_ping, reply["contract_id"])
        self.client.publish(topics.ping_reply, encode(reply), 1)

    async def _read_sync(
        self, topic_contract: str, payload: bytes
    ) -> tuple[SyncHeader, list[JSONDict]]:
        header = parse_sync_packet(decode(payload))
        if header.contract_id != topic_contract:
            raise PacketError("cid differs from the topic's contract id")
        if not await self.store.run(
            Store.check_instance, header.contract_id, header.instance_id, header.instance_password
        ):
            raise PacketError("instance id or password does not match the contract")
        records = await asyncio.to_thread(unzip_records, header.content_b64)
        if any(r["lane"] != header.lane.value for r in records):
            raise PacketError("a record's lane differs from the packet's lane")
        if self.desk is not None:
            records = await self.desk.follow(records)
        elif any(r.get("kind") == "snapshot_ref" for r in records):
            raise PacketError("a snapshot reference, but the dev cloud has no store")
        return header, records

    def attach_stores(self, stores: dict[str, ObjectStore], service: str) -> StoreDesk:
        """Serve the store channel of the homes using these stores."""
        self.desk = StoreDesk(stores, service, self._publish_nudge)
        return self.desk

    def _publish_nudge(self, cid: str, key: str) -> None:
        payload = encode(nudge_packet(cid, key))
        self.client.publish(f"{self.prefix}/{cid}/action", payload, 1)

    async def _handle_sync(self, topic_contract: str, payload: bytes) -> None:
        try:
            header, records = await self._read_sync(topic_contract, payload)
        except PacketError as err:
            self.rejected_packets += 1
            _LOGGER.warning("sync packet on %s refused: %s", topic_contract, err)
            return
        applied = await self.store.run(
            Store.apply_records, header.contract_id, header.instance_id, records
        )
        _LOGGER.debug(
            "%s %s: %d of %d records applied",
            header.contract_id,
            header.lane.value,
            len(applied),
            len(records),
        )
        for record in applied:
            self._emit({"type": "record", "contract_id": header.contract_id, "record": record})

    async def _handle_result(self, payload: bytes) -> None:
        try:
            result = parse_result(payload)
        except PacketError as err:
            self.rejected_packets += 1
            _LOGGER.warning("command result refused: %s", err)
            return
        if not await self.store.run(Store.add_result, result):
            _LOGGER.warning("result for unknown command %s ignored", result["id"])
            return
        self._emit({"type": "result", "contract_id": result.get("cid"), "result": result})

    # -- commands ----------------------------------------------------------------------

    async def send_command(
        self,
        cid: str,
        service: str,
        entity_id: str,
        data: JSONDict | None = None,
        *,
        origin: str = "cloud_ui",
        ttl: float = 30.0,
    ) -> str:
        """Publish a command to `inx/<cid>/action` (QoS 1); returns its id."""
        await self._check_sender(cid, origin)
        packet = action_packet(
            command_id=f"cmd-{secrets.token_hex(8)}",
            contract_id=cid,
            service=service,
            entity_id=entity_id,
            data=data,
            iat=time.time(),
            ttl=ttl,
            origin=origin,
        )
        return await self._publish(cid, packet, packet)

    async def send_rule(
        self,
        cid: str,
        op: str,
        *,
        rule: JSONDict | None = None,
        rule_id: str | None = None,
        force: bool = False,
        origin: str = "cloud_ui",
        ttl: float = 30.0,
    ) -> str:
        """Publish a rule command (list, create, update, delete, enable, disable)."""
        await self._check_sender(cid, origin)
        packet = rule_packet(
            command_id=f"rule-{secrets.token_hex(8)}",
            contract_id=cid,
            op=op,
            iat=time.time(),
            rule=rule,
            rule_id=rule_id,
            force=force,
            ttl=ttl,
            origin=origin,
        )
        named = rule.get("rule_id") if isinstance(rule, dict) else rule_id
        stored = {
            **packet,
            "service": f"rule.{op}",
            "target": {"entity_id": named if isinstance(named, str) else ""},
            "data": {"rule": rule, "force": force},
        }
        return await self._publish(cid, packet, stored)

    async def _check_sender(self, cid: str, origin: str) -> None:
        """A known home and a known origin, or ValueError / KeyError (the HTTP API's 400/404)."""
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}")
        if await self.store.run(Store.contract, cid) is None:
            raise KeyError(cid)

    async def _publish(self, cid: str, packet: JSONDict, stored: JSONDict) -> str:
        """Keep the command (as `stored`), publish `packet` at QoS 1, tell the listeners."""
        topics = Topics.for_contract(cid, self.prefix)
        await self.store.run(Store.add_command, stored)
        await self.client.publish_acked(topics.action, encode(packet), 1)
        self._emit({"type": "command", "contract_id": cid, "command": stored})
        return str(packet["id"])

    async def rules(self, cid: str) -> JSONDict:
        """The home's cloud rules as last synced, with the last refusal of each."""
        return await self.store.run(Store.rules, cid)

    async def command(self, command_id: str) -> JSONDict | None:
        """A command with its results."""
        return await self.store.run(Store.command, command_id)

    async def contracts(self) -> list[Contract]:
        """Every contract."""
        return await self.store.run(Store.contracts)

    async def entities(self, cid: str) -> JSONDict:
        """The home's entities and their cloud-side state."""
        return await self.store.run(Store.entities, cid)


def parse_result(payload: bytes) -> JSONDict:
    """Validate a packet from `inx/instance/return`; raises PacketError."""
    result = decode(payload)
    if result.get("c") != "Command" or result.get("a") != "result":
        raise PacketError("not a command result")
    if not isinstance(result.get("id"), str) or not result["id"]:
        raise PacketError("id must be a non-empty string")
    if result.get("status") not in set(CommandStatus):
        raise PacketError(f"unknown status {result.get('status')!r}")
    return result


def dumps_event(event: JSONDict) -> str:
    """An event as one line of JSON (for SSE)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)
