# ruff: noqa: RUF001 - the report prints multiplication, minus and division signs
"""Benchmark 6: AWS IoT Core messages and money per home, ours against the naive forwarder.

A pure model fed with the packet sizes benchmark 3 measured. Metering rules (AWS IoT Core
pricing page): a publish is billed in 5 KB units of payload + topic; IoT Core's own
PUBACKs and PINGREQ/PINGRESP are free; under MQTT 3.1.1 the PUBACK a device sends for a
message it received is billed as one message; delivery of a message to each subscriber is
a message too.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from bench.report import Row, Section

UNIT = 5 * 1024
DAYS_PER_MONTH = 30
PRICE_MESSAGES = 1.00 / 1_000_000  # USD per message, first 1 billion per month, us-east-1
PRICE_CONNECT = 0.08 / 1_000_000  # USD per connection-minute
PRICE_RULE = 0.15 / 1_000_000  # USD per rule triggered
PRICE_ACTION = 0.15 / 1_000_000  # USD per action executed
PRICE_SOURCE = (
    "https://aws.amazon.com/iot-core/pricing/ (us-east-1): messaging $1.00 per million "
    "(first billion/month), connectivity $0.08 per million connection-minutes, rules "
    "engine $0.15 per million rules triggered + $0.15 per million actions executed; prices "
    "as quoted in issue #6 (November 2026); this offline run could not re-read the page"
)


@dataclass(slots=True, frozen=True)
class Load:
    """The reference home."""

    devices: int = 40
    sensors: int = 6
    sensor_period_s: float = 30.0
    changes_per_day: int = 200
    commands_per_day: int = 50
    ping_period_s: float = 60.0
    low_window_s: float = 30.0


# A 10,000-device home in benchmark 4's mix (per 12 devices: 6 lights, 2 shades, 2 motion
# sensors, a Steinel with 4 readings, an ozone sensor): 5,833 sensor entities, each
# light or shade changed 20 times a day, 10x the reference home's commands.
LARGE_HOME = Load(devices=10_000, sensors=5_833, changes_per_day=83_340, commands_per_day=500)


@dataclass(slots=True, frozen=True)
class Sizes:
    """Measured bytes (payload + topic) per record, from benchmark 3."""

    low_record: float
    high_packet: float
    naive_change: float
    action: int = 420
    result: int = 520
    ping: int = 120
    ping_reply: int = 170


@dataclass(slots=True)
class Daily:
    """Messages, rules and actions per day for one home."""

    messages: float = 0.0
    rules: float = 0.0
    actions: float = 0.0

    def monthly_usd(self) -> float:
        minutes = 24 * 60 * DAYS_PER_MONTH
        return (
            DAYS_PER_MONTH
            * (
                self.messages * PRICE_MESSAGES
                + self.rules * PRICE_RULE
                + self.actions * PRICE_ACTION
            )
            + minutes * PRICE_CONNECT
        )


def units(nbytes: float) -> int:
    """Billed messages for one publish of `nbytes` (payload + topic)."""
    return max(1, math.ceil(nbytes / UNIT))


def _common(load: Load, sizes: Sizes) -> Daily:
    """Commands and pings: the same for both (the naive setup needs them too)."""
    day = Daily()
    pings = 86_400 / load.ping_period_s
    # device publish, delivery of the republished copy to the cloud, the cloud's reply
    # publish, its delivery to the device, the device's PUBACK (MQTT 3.1.1)
    day.messages += pings * (units(sizes.ping) * 2 + units(sizes.ping_reply) * 2 + 1)
    day.rules += pings
    day.actions += pings
    # action published by the cloud + delivered + device PUBACK; accepted and succeeded
    # results published by the device + delivered to the cloud
    per_command = units(sizes.action) * 2 + 1 + 2 * units(sizes.result) * 2
    day.messages += load.commands_per_day * per_command
    return day


def ours(load: Load, sizes: Sizes) -> Daily:
    """Low lane: one batch per window; high lane: one publish per change (no coalescing)."""
    day = _common(load, sizes)
    readings_per_window = load.sensors * load.low_window_s / load.sensor_period_s
    batches = 86_400 / load.low_window_s
    batch_bytes = readings_per_window * sizes.low_record
    day.messages += batches * units(batch_bytes) * 2  # publish + delivery to the cloud
    day.messages += load.changes_per_day * units(sizes.high_packet) * 2
    return day


def naive(load: Load, sizes: Sizes) -> Daily:
    """Every reading and every change is its own publish."""
    day = _common(load, sizes)
    readings = load.sensors * 86_400 / load.sensor_period_s
    day.messages += (readings + load.changes_per_day) * units(sizes.naive_change) * 2
    return day


def run(sizes: Sizes, load: Load | None = None) -> Section:
    """Benchmark 6's rows and notes."""
    load = load or Load()
    a, b = ours(load, sizes), naive(load, sizes)
    common = _common(load, sizes).messages
    rows = [
        Row(
            "6a",
            "AWS IoT messages per home per day",
            a.messages,
            b.messages,
            "msgs",
            "fewer than baseline",
            a.messages < b.messages,
            0,
        ),
        Row(
            "6a'",
            "of which state sync (without pings and commands)",
            a.messages - common,
            b.messages - common,
            "msgs",
            "(report)",
            None,
            0,
        ),
        Row(
            "6b",
            "AWS IoT cost per home per month",
            a.monthly_usd(),
            b.monthly_usd(),
            "USD",
            "fewer than baseline",
            a.monthly_usd() < b.monthly_usd(),
            4,
        ),
        Row(
            "6c",
            "cost per 10,000 homes per month",
            a.monthly_usd() * 10_000,
            b.monthly_usd() * 10_000,
            "USD",
            "(report)",
            None,
            0,
        ),
    ]
    big_a, big_b = ours(LARGE_HOME, sizes), naive(LARGE_HOME, sizes)
    rows += [
        Row(
            "6d",
            f"AWS IoT messages per day, a {LARGE_HOME.devices:,}-device home",
            big_a.messages,
            big_b.messages,
            "msgs",
            "fewer than baseline",
            big_a.messages < big_b.messages,
            0,
        ),
        Row(
            "6e",
            f"AWS IoT cost per month, a {LARGE_HOME.devices:,}-device home",
            big_a.monthly_usd(),
            big_b.monthly_usd(),
            "USD",
            "fewer than baseline",
            big_a.monthly_usd() < big_b.monthly_usd(),
            2,
        ),
    ]
    method = [
        f"Reference home: {load.devices} devices, {load.sensors} sensors reporting every "
        f"{load.sensor_period_s:.0f} s, {load.changes_per_day} light/shade changes a day, "
        f"{load.commands_per_day} commands a day, a ping every {load.ping_period_s:.0f} s, "
        f"one connection all day, {DAYS_PER_MONTH}-day month.",
        f"Ours: the low lane sends one batch per {load.low_window_s:.0f} s window "
        f"({load.sensors * load.low_window_s / load.sensor_period_s:.0f} readings × "
        f"{sizes.low_record:.0f} B measured in 3 = {units(sizes.low_record * load.sensors)} "
        f"unit(s)); every light/shade change is assumed to go alone "
        f"({sizes.high_packet:.0f} B, 1 unit) — changes a day apart are not coalesced. "
        f"Naive: each reading and change its own {sizes.naive_change:.0f} B publish "
        "(measured in 3).",
        "Counted per publish: the home's publish and its delivery to the cloud service "
        "(2 messages). Ping: publish, rule + republish action, delivery of the republished "
        "copy, the reply, its delivery, the device's PUBACK (3.1.1) = 5 messages + 1 rule + 1 "
        "action. Command: action publish + delivery + device PUBACK, then `accepted` and "
        "`succeeded` results each published and delivered = 7 messages. Commands and "
        "pings are the same for both sides, so the ratio understates the saving on sync "
        "alone. IoT Core's PUBACKs and keep-alive pings are free. Activation (once) is left "
        "out.",
        f"Large home (6d, 6e): {LARGE_HOME.devices:,} devices, {LARGE_HOME.sensors:,} "
        f"sensor entities reporting every {LARGE_HOME.sensor_period_s:.0f} s, "
        f"{LARGE_HOME.changes_per_day:,} light/shade changes and "
        f"{LARGE_HOME.commands_per_day} commands a day; same counting. A low batch of "
        f"{LARGE_HOME.sensors:,} readings is "
        f"{units(sizes.low_record * LARGE_HOME.sensors)} billed unit(s).",
        f"Prices: {PRICE_SOURCE}.",
    ]
    return Section("6. Cloud cost", rows, method, [])
