"""The benchmark code still works: each Mosquitto-only benchmark at a tiny size.

No timing is asserted (figures on a shared machine are not pass/fail); what is asserted
is what the benchmarks exist to show: batching sends far fewer publishes than one per
change, within the publish limits, every change arrives, and the cost model and report
follow their stated rules. The hass-based benchmarks (1, 2, 4) run with `make bench`.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

from homeassistant.components.websocket_api import messages
from homeassistant.core import Event, State
import pytest
import yaml

from bench import cost, footprint, home_mix, ingest, stack_latency, sync_pipeline
from bench.report import Row, Section, render
from bench.stats import percentile
from cloud_bridge.protocol.packets import MAX_PUBLISH_BYTES
from devkit.devcloud.broker import find_mosquitto
from tests.helpers.fake_ha import FakeHA

needs_mosquitto = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto not installed")


@needs_mosquitto
async def test_sync_pipeline_batches_every_change_within_the_limits() -> None:
    sizes = sync_pipeline.Sizes(
        ingest_changes=2000,
        flood_rate=500,
        flood_seconds=1.0,
        naive_ingest_changes=300,
        entities=50,
        low_window=1.0,
    )
    section, r = await sync_pipeline.run(sizes)
    assert r.ingest_wire.records == 2000  # every sensor change reached the cloud side
    assert r.naive.publishes == r.flood_changes == 500
    assert 0 < r.ours.publishes < r.naive.publishes / 5
    assert r.ours.largest <= MAX_PUBLISH_BYTES
    assert r.ours.peak_per_second() <= 100
    assert r.ours.nbytes < r.naive.nbytes
    assert [row.number for row in section.rows] == ["3a", "3b", "3c", "3d", "3e"]


@needs_mosquitto
async def test_footprint_reads_the_bridge_process_and_its_outbox() -> None:
    sizes = footprint.Sizes(
        entities=40, rate=100, flood_seconds=1.0, outbox_seconds=1.0, idle_seconds=1.0
    )
    section = await footprint.run(sizes, naive_change_bytes=250.0)
    idle, peak, outbox = section.rows
    assert idle.ours > 10  # MiB: a Python process with aiohttp and paho loaded
    assert peak.ours >= idle.ours * 0.9
    assert idle.baseline > 10
    assert 50 < outbox.ours < 5000  # bytes per queued row: JSON record plus index


@needs_mosquitto
async def test_naive_forwarder_connects_with_a_token_that_starts_with_a_dash(
    tmp_path: Path,
) -> None:
    # secrets.token_urlsafe starts with "-" one time in 64; as an argv value argparse
    # took it for an option and the baseline process exited (a CI failure).
    broker = await sync_pipeline._broker()
    ha = FakeHA("-leading-dash-token")
    await ha.start()
    try:
        proc = await footprint.start_naive(tmp_path, ha, broker.port)
        try:
            assert ha.connection_count == 1
            assert ha.token not in " ".join(proc.argv)  # a secret stays out of `ps`
        finally:
            await proc.stop()
    finally:
        await ha.stop()
        await broker.stop()


def test_cost_model_bills_5kb_units_and_batching_saves_messages() -> None:
    assert cost.units(1) == 1
    assert cost.units(5120) == 1
    assert cost.units(5121) == 2
    sizes = cost.Sizes(low_record=120.0, high_packet=600.0, naive_change=270.0)
    ours, naive = cost.ours(cost.Load(), sizes), cost.naive(cost.Load(), sizes)
    # 6 sensors every 30 s = 17,280 readings a day; the naive side publishes each (and
    # each is delivered once more to the cloud service)
    common = cost._common(cost.Load(), sizes).messages
    assert naive.messages - common == (17_280 + 200) * 2
    assert ours.messages - common == (2880 + 200) * 2
    assert ours.monthly_usd() < naive.monthly_usd()
    rows = cost.run(sizes).rows
    assert rows[0].met is True


def test_polling_baseline_waits_half_a_period_on_average() -> None:
    samples = [0.2] * 100
    modelled = stack_latency.polled(samples)
    assert len(modelled) == 100 * 50
    assert 28 < sum(modelled) / len(modelled) < 32
    assert max(modelled) < 60.2
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert math.isnan(percentile([], 99))


def test_baseline_mqtt_yaml_configures_every_entity_of_the_mixed_home() -> None:
    specs = home_mix.fleet(24)
    config = yaml.safe_load(home_mix.mqtt_yaml(specs))["mqtt"]
    kinds = [spec.kind for spec in specs]
    assert len(config["light"]) == kinds.count("light") + kinds.count("rgbw_light") == 12
    assert len(config["cover"]) == kinds.count("shade") == 4
    # two motion sensors and one Steinel per 12 devices, each with a motion entity
    assert len(config["binary_sensor"]) == 6
    assert len(config["sensor"]) == 2 * 3 + 2  # Steinel readings + ozone
    ids = [e["unique_id"] for platform in config.values() for e in platform]
    assert len(ids) == len(set(ids)) == len(home_mix.entity_keys(specs))
    light = config["light"][0]
    assert light["brightness_state_topic"] == "inspextor/bench000/0/brightness/status"


def test_every_blast_round_changes_what_each_entity_shows() -> None:
    """A round that repeated a value would write no state and flatter the rate."""
    specs = home_mix.fleet(24)
    for spec in specs:
        for cap in home_mix.capabilities(spec):
            rounds = [r for r in range(1, 30) if home_mix.capability(spec, r) == cap]
            values = [home_mix.value(spec, cap, r) for r in rounds]
            assert all(a != b for a, b in itertools.pairwise(values)), (spec, cap)


def test_every_message_the_bench_devices_send_changes_a_state() -> None:
    """Full answers too: a motion reading that repeated what the entity shows would be
    skipped by HA's MQTT platforms and flatter their rate (issue 19)."""
    specs = home_mix.fleet(24)
    devices = ingest.Devices(1, specs, "floor")  # never started: publishes go nowhere
    devices.publish_full()
    for _run in range(2):
        for _round in range(5):
            before = dict(devices.sent)
            devices.publish_round()
            changed = [key for key in before if devices.sent[key] != before[key]]
            assert len(changed) == len(specs)
        devices.refresh()
        assert all(devices.full[key] != devices.sent[key] for key in devices.sent)
        devices.publish_full()
        assert devices.sent == devices.full


def test_the_counted_blast_counts_bench_state_changes_in_hass_own_frames() -> None:
    """Counted in the raw WebSocket frames, as hass's websocket_api serializes them."""

    def frame(entity_id: str, new: bool = True) -> str:
        old = State(entity_id, "on", {"brightness": 3})
        state = State(entity_id, "on", {"brightness": 4}) if new else None
        data = {"entity_id": entity_id, "old_state": old, "new_state": state}
        return messages.cached_event_message(b"1", Event("state_changed", data)).decode()

    bench = [frame("light.bench_light_0"), frame("sensor.bench_ozone_11_ozone")]
    other = [frame("sun.sun"), frame("light.bench_light_1", new=False)]
    assert ingest._count_changed(bench[0]) == 1
    assert ingest._count_changed("[" + ",".join([*bench, *other, bench[0]]) + "]") == 3
    assert ingest._count_changed('{"id":1,"type":"result","success":true}') == 0


def test_the_floor_plan_maps_every_message_the_bench_sends() -> None:
    specs = home_mix.fleet(12)
    plan = home_mix.floor_plan(specs, rounds=9)
    by_topic = {item["topic"]: item for item in plan["entities"]}
    for spec in specs:
        for round_ in range(9):
            cap = home_mix.capability(spec, round_)
            item = by_topic[home_mix.topic(spec, cap)]
            assert item["values"][home_mix.payload(spec, cap, round_)] == home_mix.value(
                spec, cap, round_
            )
    assert {item["unique_id"] for item in plan["entities"]} == {
        home_mix.unique_id_ours(key) for key in home_mix.entity_keys(specs)
    }


def test_report_has_the_table_the_machine_and_the_gaps(tmp_path: Path) -> None:
    section = Section(
        "9. Example",
        [Row("9a", "thing", 2.0, 4.0, "ms", "≤ 3 ms", True)],
        ["how it was measured"],
        ["what would close it"],
    )
    text = render([section, Section("8. Broken", error="boom")], {"cpu": "X"}, 12.0)
    assert "| 9a | thing | 2.0 ms | 4.0 ms | 0.5\u00d7 | ≤ 3 ms | yes |" in text
    assert "| cpu | X |" in text
    assert "what would close it" in text
    assert "failed: boom" in text
