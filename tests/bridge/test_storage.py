"""The SQLite store: outbox lanes, durable sequences and drops, command ids, errors."""

from __future__ import annotations

import os
from pathlib import Path
import sqlite3
from types import SimpleNamespace

import pytest

from cloud_bridge.protocol.records import Lane, state_record, structure_record
from cloud_bridge.storage import StorageError, Store, store as store_module
from cloud_bridge.storage.store import LOW_WATERMARK_BYTES, RESERVE_BYTES


def rec(lane: Lane, entity: str, state: str) -> tuple[str, dict]:
    return entity, state_record(lane, seq=0, ts=1.0, entity_id=entity, state=state, attributes={})


async def open_store(path: Path, capacity: int = 100) -> Store:
    store = Store.in_data_dir(path, capacity)
    await store.open()
    return store


async def test_high_lane_keeps_latest_per_entity(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.enqueue(
        Lane.HIGH, [rec(Lane.HIGH, "light.a", "on"), rec(Lane.HIGH, "light.b", "on")]
    )
    seqs = await store.enqueue(Lane.HIGH, [rec(Lane.HIGH, "light.a", "off")])
    assert seqs == [3]
    rows = await store.fetch(Lane.HIGH, 10)
    assert [(r.record["entity_id"], r.record["state"], r.seq) for r in rows] == [
        ("light.b", "on", 2),
        ("light.a", "off", 3),
    ]
    await store.close()


async def test_row_replaced_while_in_flight_stays_queued(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.enqueue(Lane.HIGH, [rec(Lane.HIGH, "light.a", "on")])
    in_flight = await store.fetch(Lane.HIGH, 10)
    await store.enqueue(Lane.HIGH, [rec(Lane.HIGH, "light.a", "off")])
    assert await store.remove(Lane.HIGH, in_flight) == 0
    (left,) = await store.fetch(Lane.HIGH, 10)
    assert left.record["state"] == "off"
    await store.close()


async def test_low_lane_is_bounded_fifo_and_counts_drops_durably(tmp_path: Path) -> None:
    store = await open_store(tmp_path, capacity=5)
    await store.enqueue(Lane.LOW, [rec(Lane.LOW, "sensor.t", str(i)) for i in range(8)])
    rows = await store.fetch(Lane.LOW, 100)
    assert [r.record["state"] for r in rows] == ["3", "4", "5", "6", "7"]
    await store.enqueue(Lane.LOW, [rec(Lane.LOW, "sensor.t", "8")])
    assert (await store.counts())["dropped_low"] == 4
    await store.remove(Lane.LOW, (await store.fetch(Lane.LOW, 2)))
    await store.close()
    store = await open_store(tmp_path, capacity=5)
    counts = await store.counts()
    assert (counts["low"], counts["dropped_low"]) == (3, 4)
    assert await store.last_seq(Lane.LOW) == 9
    seqs = await store.enqueue(Lane.LOW, [rec(Lane.LOW, "sensor.t", "9")])
    assert seqs == [10]  # sequences survive restarts
    await store.close()


async def test_structure_keeps_one_snapshot(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    for n in range(3):
        await store.enqueue(Lane.STRUCTURE, [("", structure_record(0, 1.0, [{"n": n}], [], []))])
    rows = await store.fetch(Lane.STRUCTURE, 10)
    assert len(rows) == 1
    assert rows[0].record["areas"] == [{"n": 2}]
    assert rows[0].seq == 3
    assert await store.enqueue(Lane.LOW, []) == []
    await store.close()


async def test_command_ids_survive_restart_and_expire(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.remember_command("a", 100.0) is True
    assert await store.remember_command("a", 100.0) is False
    await store.close()
    store = await open_store(tmp_path)
    assert await store.remember_command("a", 100.0) is False
    assert await store.purge_commands(200.0) == 1
    assert await store.remember_command("a", 300.0) is True
    await store.close()


async def test_a_command_id_is_fsynced_before_the_command_runs(tmp_path: Path) -> None:
    # A power cut cannot be made here; what it needs can be seen: the id's commit runs
    # with synchronous=FULL (the outbox's NORMAL may lose the last commits on power loss).
    store = await open_store(tmp_path)
    statements: list[str] = []
    await store._run(lambda conn: conn.set_trace_callback(statements.append))
    assert await store.remember_command("cmd-1", 9e9)
    await store._run(lambda conn: conn.set_trace_callback(None))
    insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO commands"))
    assert statements[insert - 1] == "PRAGMA synchronous=FULL"
    assert statements[insert + 1] == "PRAGMA synchronous=NORMAL"
    sync = await store._run(lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0])
    assert sync == 1  # NORMAL again for the outbox
    await store.close()


async def test_kv_log_and_exposure(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.get("missing", {"x": 1}) == {"x": 1}
    await store.set("subscription", {"state": "active"})
    await store.log_activation("r", "activate", 1, "sent", None)
    await store.log_activation("r", "activate", 1, "timeout", "no reply")
    assert await store.set_exposure(["light.b", "light.a"]) == ["light.a", "light.b"]
    await store.close()
    store = await open_store(tmp_path)
    assert await store.get("subscription") == {"state": "active"}
    assert [e["status"] for e in await store.activation_log()] == ["sent", "timeout"]
    assert await store.exposure() == ["light.a", "light.b"]
    await store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_read_only_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        store = Store.in_data_dir(tmp_path)
        with pytest.raises(StorageError) as info:
            await store.open()
        assert info.value.code == "storage_readonly"
        assert "read-only" in str(info.value)
        with pytest.raises(StorageError, match="not open"):
            await store.get("x")
    finally:
        tmp_path.chmod(0o700)


async def test_full_disk_is_a_clear_error(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    # cap the database at its current size: the next growth fails like a full disk
    await store._run(lambda conn: conn.execute("PRAGMA journal_mode=DELETE"))
    pages = await store._run(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0])
    await store._run(lambda conn: conn.execute(f"PRAGMA max_page_count={pages}"))
    big = [rec(Lane.LOW, "sensor.x", "y" * 5000) for _ in range(50)]
    with pytest.raises(StorageError) as info:
        await store.enqueue(Lane.LOW, big)
    assert info.value.code == "storage_full"
    assert (await store.counts())["low"] == 0  # the failed transaction left nothing behind
    await store.close()


async def test_unusable_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file where the data folder should be")
    store = Store.in_data_dir(not_a_dir)
    with pytest.raises(StorageError) as info:
        await store.open()
    assert info.value.code == "storage_readonly"
    assert str(not_a_dir) in str(info.value)


async def test_reserve_is_kept_and_given_back_when_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "db.sqlite3")
    await store.open()
    reserve = tmp_path / "db.sqlite3.reserve"
    assert reserve.stat().st_size == RESERVE_BYTES
    calls = []

    def disk_full_once(conn: object) -> str:
        calls.append(reserve.exists())
        if len(calls) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return "done"

    def disk_full_always(conn: object) -> str:
        raise sqlite3.OperationalError("database or disk is full")

    # first the WAL is checkpointed and cut to zero: any write gets one more try with
    # that room, and the reserve stays
    assert await store._run(disk_full_once) == "done"
    assert calls == [True, True]
    # still full after that (another program filled the disk): a delete of sent rows
    # gets a third try with the reserve given back
    calls.clear()

    def disk_full_twice(conn: object) -> str:
        calls.append(reserve.exists())
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database or disk is full")
        return "done"

    assert await store._run(disk_full_twice, frees=True) == "done"
    assert calls == [True, True, False]
    assert await store.purge_commands(0) == 0  # housekeeping takes it back (disk has room)
    assert reserve.exists()
    # when the WAL gives nothing back, a write that would only eat the reserve is refused
    monkeypatch.setattr(store, "_truncate_wal", lambda: False)
    calls.clear()
    with pytest.raises(StorageError):
        await store._run(disk_full_once)
    assert reserve.exists()
    calls.clear()
    # but a delete of sent rows is retried with the reserve's room
    assert await store._run(disk_full_once, frees=True) == "done"
    assert calls == [True, False]
    with pytest.raises(StorageError) as err:  # no reserve left: a clear error
        await store._run(disk_full_always, frees=True)
    assert err.value.code == "storage_full"
    assert await store.purge_commands(0) == 0  # housekeeping renews the reserve
    assert reserve.exists()
    await store.close()


async def test_deleting_sent_rows_needs_no_room_for_their_content(tmp_path: Path) -> None:
    # Debian's SQLite zeroes deleted pages (secure_delete) through the WAL: deleting sent
    # readings would need as much free disk as they take, and a full disk never drains.
    store = await open_store(tmp_path, capacity=10_000)
    await store.enqueue(Lane.LOW, [rec(Lane.LOW, f"sensor.s{i}", "x" * 4000) for i in range(500)])
    wal = tmp_path / "bridge.sqlite3-wal"
    await store._run(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    rows = await store.fetch(Lane.LOW, 1000)
    assert await store.remove(Lane.LOW, rows) == 500
    assert wal.stat().st_size < 200_000  # 2 MB of readings deleted through < 0.2 MB of WAL
    await store.close()


async def test_low_lane_stops_at_the_watermark_and_high_still_goes_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await open_store(tmp_path, capacity=10_000)
    room = 0

    def disk_usage(path: object) -> SimpleNamespace:
        return SimpleNamespace(free=LOW_WATERMARK_BYTES + room)

    monkeypatch.setattr(store_module.shutil, "disk_usage", disk_usage)
    readings = [rec(Lane.LOW, "sensor.s", str(i) + "y" * 1000) for i in range(10)]
    with pytest.raises(StorageError) as err:
        await store.enqueue(Lane.LOW, readings)
    assert err.value.code == "storage_full"
    assert "nearly full" in str(err.value)
    assert await store.enqueue(Lane.HIGH, [rec(Lane.HIGH, "light.a", "on")]) == [1]
    room = 7000  # about three 1 KB readings at twice their size
    written = await store.enqueue(Lane.LOW, readings)
    assert written == [1, 2, 3]  # the oldest that fit, in order
    assert [row.record["state"][:1] for row in await store.fetch(Lane.LOW, 10)] == list("012")
    assert await store.last_seq(Lane.LOW) == 3  # no seq spent on what was not written
    await store.close()
