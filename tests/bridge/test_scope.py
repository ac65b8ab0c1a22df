"""The sync scope: only InspeXtor's own entities and exposed ones reach the cloud."""

from __future__ import annotations

from typing import Any

from cloud_bridge.scope import SyncScope, Verdict, build_scope, scoped_structure


def entry(entity_id: str, platform: str, device: str | None = None, area: str | None = None):
    return {"entity_id": entity_id, "platform": platform, "device_id": device, "area_id": area}


REGISTRY: list[dict[str, Any]] = [
    entry("light.hall", "inspextor", "d-hall"),
    entry("sensor.hall_power", "inspextor", "d-hall"),
    entry("cover.shade", "inspextor", "d-shade", area="bedroom"),
    entry("person.anna", "person"),
    entry("device_tracker.phone", "mobile_app", "d-phone"),
    entry("camera.door", "onvif", "d-cam"),
    entry("switch.plug", "tplink", "d-plug"),
]
AREAS = [{"area_id": a} for a in ("hall", "bedroom", "garden", "office")]
DEVICES = [
    {"id": "d-hall", "area_id": "hall"},
    {"id": "d-shade", "area_id": None},
    {"id": "d-phone", "area_id": "office"},
    {"id": "d-cam", "area_id": "garden"},
    {"id": "d-plug", "area_id": "office"},
]


def test_own_platform_is_synced_everything_else_dropped() -> None:
    scope = build_scope(REGISTRY, [])
    assert scope.synced == {"light.hall", "sensor.hall_power", "cover.shade"}
    assert scope.verdict("light.hall") is Verdict.SYNC
    for other in ("person.anna", "device_tracker.phone", "camera.door", "switch.plug"):
        assert scope.verdict(other) is Verdict.DROP


def test_exposed_entity_is_synced_even_without_registry_entry() -> None:
    scope = build_scope(REGISTRY, ["switch.plug", "input_boolean.yaml_only"])
    assert scope.verdict("switch.plug") is Verdict.SYNC
    assert scope.verdict("input_boolean.yaml_only") is Verdict.SYNC
    assert scope.verdict("person.anna") is Verdict.DROP


def test_never_seen_entity_is_unknown_until_seen_in_states() -> None:
    assert build_scope(REGISTRY, []).verdict("light.new") is Verdict.UNKNOWN
    assert SyncScope().verdict("light.hall") is Verdict.UNKNOWN
    seen = build_scope(REGISTRY, [], seen=["zone.home"])
    assert seen.verdict("zone.home") is Verdict.DROP


def test_malformed_registry_entries_are_ignored() -> None:
    scope = build_scope([{"platform": "inspextor"}, "junk", entry("light.a", "inspextor")], [1])  # type: ignore[list-item]
    assert scope.synced == {"light.a"}


def test_structure_keeps_scoped_entities_their_devices_and_areas() -> None:
    scope = build_scope(REGISTRY, ["switch.plug"])
    areas, devices, entities = scoped_structure(scope, AREAS, DEVICES, REGISTRY)
    assert [e["entity_id"] for e in entities] == [
        "light.hall",
        "sensor.hall_power",
        "cover.shade",
        "switch.plug",
    ]
    assert [d["id"] for d in devices] == ["d-hall", "d-shade", "d-plug"]
    # hall from the device, bedroom from the entity itself, office from the exposed plug
    assert [a["area_id"] for a in areas] == ["hall", "bedroom", "office"]


def test_structure_without_scope_is_empty() -> None:
    assert scoped_structure(build_scope([], []), AREAS, DEVICES, REGISTRY) == ([], [], [])


def test_the_bridge_devices_own_entities_stay_home() -> None:
    """Outbox depth, ping, cloud connected: InspeXtor's platform, but about the bridge itself."""
    bridge = [
        {
            "entity_id": "sensor.inspextor_cloud_bridge_outbox_high_priority",
            "platform": "inspextor",
            "unique_id": "bridge:C-1001:home-1:outbox_high",
        },
        {
            "entity_id": "light.kitchen",
            "platform": "inspextor",
            "unique_id": "inspextor:b5ea3f/42:brightness",
        },
    ]
    scope = build_scope(bridge, [])
    assert scope.synced == {"light.kitchen"}
    assert scope.verdict("sensor.inspextor_cloud_bridge_outbox_high_priority") is Verdict.DROP
