"""The whole system on one machine: brokers, simulator, hass, dev cloud and bridge.

`Stack` is what `make demo` runs, what the end-to-end tests start and what the
benchmarks measure. Two brokers keep the two worlds apart as they are in production: the
site broker (devices and HA's MQTT) and the cloud broker (the dev cloud playing AWS IoT
Core). Every child runs in its own process group and is stopped with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import logging
from pathlib import Path
import secrets
import socket
from typing import Any

import aiohttp

from devkit.devcloud.broker import LocalBroker, start_local_broker
from devkit.devstack.demo_things import THINGS_TITLE, demo_things_site
from devkit.devstack.hass import HassInstance
from devkit.devstack.procs import ManagedProcess

_LOGGER = logging.getLogger(__name__)

DEMO_SITE_MAP = Path(__file__).with_name("demo_site.yaml")
SITE_TITLE = "Demo home"
BRIDGE_TITLE = "InspeXtor cloud bridge"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class StackError(RuntimeError):
    """A part of the stack did not start; the message says which and why."""


@dataclass(slots=True)
class StackConfig:
    """Ports, identities and tuning of one stack."""

    workdir: Path
    site_port: int = 18830
    cloud_port: int = 18831
    hass_port: int = 8123
    devcloud_port: int = 8080
    bridge_port: int = 9998
    # things_sync (UDP): the demo controller on 127.0.0.2, and where HA listens.
    things_port: int = 5006
    things_ha_port: int = 5005
    base_topic: str = "inspextor"
    contract_id: str = "C-1001"
    instance_id: str = "home-1"
    contract_state: str = "active"
    contract_expires: str = "2030-12-31"
    site_map: Path = DEMO_SITE_MAP
    shade_travel_time: float = 8.0
    sensor_interval: float = 15.0
    motion_interval: float = 20.0
    ping_interval: int = 30
    low_window: float = 5.0
    extra_contracts: list[str] = field(default_factory=list)
    bridge_options: dict[str, Any] = field(default_factory=dict)
    log_level: str = "info"

    @classmethod
    def for_tests(cls, workdir: Path, **overrides: Any) -> StackConfig:
        """Free ports everywhere: for tests and benchmarks running beside a demo."""
        ports = {
            name: free_port()
            for name in (
                "site_port",
                "cloud_port",
                "hass_port",
                "devcloud_port",
                "bridge_port",
                "things_port",
                "things_ha_port",
            )
        }
        return cls(workdir=workdir, **{**ports, **overrides})


@dataclass(slots=True)
class Stack:
    """A running stack; `start()` brings it up in dependency order."""

    config: StackConfig
    site_broker: LocalBroker | None = None
    cloud_broker: LocalBroker | None = None
    hass: HassInstance | None = None
    simulator: ManagedProcess | None = None
    things_simulator: ManagedProcess | None = None
    devcloud: ManagedProcess | None = None
    bridge: ManagedProcess | None = None
    bridge_token: str = ""
    instance_password: str = ""
    bridge_entry_id: str = ""

    @property
    def hass_url(self) -> str:
        """Home Assistant's HTTP API."""
        assert self.hass is not None
        return self.hass.url

    @property
    def devcloud_url(self) -> str:
        """The dev cloud's page and API."""
        return f"http://127.0.0.1:{self.config.devcloud_port}"

    @property
    def bridge_url(self) -> str:
        """The bridge's local API."""
        return f"http://127.0.0.1:{self.config.bridge_port}"

    @property
    def logs(self) -> Path:
        """Where every child writes its log."""
        return self.config.workdir / "logs"

    def _secrets(self) -> dict[str, str]:
        """The demo's instance password and bridge token, made once and kept."""
        path = self.config.workdir / "secrets.json"
        if path.exists():
            return dict(json.loads(path.read_text()))
        values = {
            "instance_password": secrets.token_urlsafe(16),
            "bridge_token": secrets.token_urlsafe(24),
        }
        path.write_text(json.dumps(values))
        path.chmod(0o600)
        return values

    def _check_ports(self) -> None:
        cfg = self.config
        busy = [
            f"{what} port {port}"
            for what, port in (
                ("site broker", cfg.site_port),
                ("cloud broker", cfg.cloud_port),
                ("Home Assistant", cfg.hass_port),
                ("dev cloud", cfg.devcloud_port),
                ("bridge API", cfg.bridge_port),
            )
            if port_in_use(port)
        ]
        if busy:
            raise StackError(
                "already in use: " + ", ".join(busy) + " (is another demo running? stop it first)"
            )

    async def start(self) -> None:
        """Start every part; on failure stop what started and raise StackError."""
        cfg = self.config
        cfg.workdir.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        values = self._secrets()
        self.instance_password = values["instance_password"]
        self.bridge_token = values["bridge_token"]
        try:
            await self._start_parts()
        except BaseException:
            await self.stop()
            raise

    async def _start_parts(self) -> None:
        cfg = self.config
        self.site_broker = await start_local_broker(port=cfg.site_port)
        self.cloud_broker = await start_local_broker(port=cfg.cloud_port)
        self.simulator = ManagedProcess.python_module(
            "simulator",
            "devkit.simulator",
            [
                "--broker",
                f"127.0.0.1:{cfg.site_port}",
                "--base",
                cfg.base_topic,
                "--site-map",
                str(cfg.site_map),
                "--shade-travel-time",
                str(cfg.shade_travel_time),
                "--sensor-interval",
                str(cfg.sensor_interval),
                "--motion-interval",
                str(cfg.motion_interval),
            ],
            self.logs / "simulator.log",
            None,
        )
        await self.simulator.start()
        contracts = [
            f"{cfg.contract_id}:{cfg.instance_id}:{self.instance_password}:"
            f"{cfg.contract_state}:{cfg.contract_expires}",
            *cfg.extra_contracts,
        ]
        devcloud_args = [
            "serve",
            "--broker",
            f"127.0.0.1:{cfg.cloud_port}",
            "--db",
            str(cfg.workdir / "devcloud.sqlite3"),
            "--http-port",
            str(cfg.devcloud_port),
            "--store-folder",  # the store channel on the folder backend, beside the bridge's
            str(cfg.workdir / "stores"),
        ]
        for contract in contracts:
            devcloud_args += ["--contract", contract]
        self.devcloud = ManagedProcess.python_module(
            "dev cloud", "devkit.devcloud", devcloud_args, self.logs / "devcloud.log", None
        )
        await self.devcloud.start()
        self.hass = HassInstance(cfg.workdir / "hass", cfg.hass_port, log_level=cfg.log_level)
        await self.hass.start()
        await self.hass.onboard()
        await self.hass.ensure_entry("mqtt", [{"broker": "127.0.0.1", "port": cfg.site_port}])
        await self.ensure_inspextor_entry(
            SITE_TITLE,
            "site",
            {
                "name": SITE_TITLE,
                "base_topic": cfg.base_topic,
                "site_map": cfg.site_map.read_text(),
            },
        )
        await self._start_things()
        await self.wait_http(self.devcloud_url + "/api/homes", self.devcloud)
        await self.start_bridge()
        # The bridge entry checks the bridge's API while it is created: the bridge runs now.
        bridge_entry = await self.ensure_inspextor_entry(
            BRIDGE_TITLE,
            "bridge",
            {"host": "127.0.0.1", "port": cfg.bridge_port, "token": self.bridge_token},
        )
        self.bridge_entry_id = str(bridge_entry["entry_id"])
        # On a second run every entry already existed. HA answers HTTP before it sets up
        # integrations, so an entry may still be loading; the bridge's was tried before
        # the bridge was up and waits to retry (loaded now rather than after HA's backoff).
        for entry in await self.hass.config_entries("inspextor"):
            await self.hass.ensure_loaded(str(entry["entry_id"]))

    def _things_site_file(self) -> Path:
        cfg = self.config
        path = cfg.workdir / "things_site.yaml"
        path.write_text(demo_things_site(cfg.things_port, cfg.things_ha_port), encoding="utf-8")
        return path

    async def _start_things(self) -> None:
        """One things_sync controller (no broker, inputs changing now and then), its entry."""
        self.things_simulator = ManagedProcess.python_module(
            "things_sync simulator",
            "devkit.simulator.things_sync",
            ["--site", str(self._things_site_file()), "--inputs", str(self.config.sensor_interval)],
            self.logs / "things_sync.log",
            None,
        )
        await self.things_simulator.start()
        await self.ensure_inspextor_entry(
            THINGS_TITLE,
            "things_sync",
            {"name": THINGS_TITLE, "site_file": self._things_site_file().read_text()},
        )

    async def ensure_inspextor_entry(
        self, title: str, kind: str, user_input: dict[str, Any]
    ) -> dict[str, Any]:
        """The InspeXtor entry titled `title`, created through the menu (its kind's step)."""
        assert self.hass is not None
        return await self.hass.ensure_entry(
            "inspextor", [{"next_step_id": kind}, user_input], title=title
        )

    async def set_exposure(self, entities: list[str]) -> None:
        """Choose what the cloud may control in the bridge entry's options, as a user does."""
        assert self.hass is not None
        await self.hass.run_flow(
            "/api/config/config_entries/options/flow",
            {"handler": self.bridge_entry_id},
            [{"next_step_id": "exposure"}, {"exposed_entities": entities}],
        )

    def bridge_options(self) -> dict[str, Any]:
        """The bridge's options file: plain MQTT to the dev cloud's broker."""
        cfg = self.config
        assert self.hass is not None
        assert self.hass.credentials is not None
        return {
            "contract_id": cfg.contract_id,
            "instance_id": cfg.instance_id,
            "instance_password": self.instance_password,
            "name": SITE_TITLE,
            "type": "home",
            "location": "Amsterdam",
            "phone": "+31 20 000 0000",
            "transport": "mqtt",
            "endpoint": "127.0.0.1",
            "port": cfg.cloud_port,
            "client_id": cfg.instance_id,
            "ping_interval": cfg.ping_interval,
            "low_window": cfg.low_window,
            "api_port": cfg.bridge_port,
            "api_host": "127.0.0.1",
            "api_token": self.bridge_token,
            "ha_url": self.hass.websocket_url,
            "ha_token": self.hass.credentials.token,
            "data_dir": str(cfg.workdir / "bridge"),
            "log_level": cfg.log_level,
            "store_channel": True,
            "store_folder": str(cfg.workdir / "stores"),
            **cfg.bridge_options,
        }

    async def start_bridge(self) -> None:
        """(Re)start the bridge process and wait for its local API."""
        options_file = self.config.workdir / "bridge-options.json"
        (self.config.workdir / "bridge").mkdir(exist_ok=True)
        options_file.write_text(json.dumps(self.bridge_options(), indent=2))
        options_file.chmod(0o600)
        self.bridge = ManagedProcess.python_module(
            "bridge",
            "cloud_bridge",
            ["run", "--config", str(options_file)],
            self.logs / "bridge.log",
            None,
        )
        await self.bridge.start()
        await self.wait_http(self.bridge_url + "/api/status", self.bridge, self.bridge_token)

    async def wait_http(
        self, url: str, proc: ManagedProcess, token: str | None = None, timeout: float = 60.0
    ) -> None:
        """Wait until `url` answers, failing early with the log if `proc` exits."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        await proc.wait_http(url, headers, timeout, error=StackError)

    async def bridge_api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the bridge's local API."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
            session.request(
                method,
                self.bridge_url + path,
                json=body,
                headers={"Authorization": f"Bearer {self.bridge_token}"},
            ) as resp,
        ):
            return resp.status, await resp.json(content_type=None)

    async def stop(self) -> None:
        """Stop every part, last started first. Safe to call twice."""
        for proc in (self.bridge, self.devcloud, self.things_simulator, self.simulator):
            if proc is not None:
                await proc.stop()
        if self.hass is not None:
            await self.hass.stop()
        for broker in (self.cloud_broker, self.site_broker):
            if broker is not None:
                await broker.stop()
        self.cloud_broker = self.site_broker = None
