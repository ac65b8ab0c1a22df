"""The pure site map and protocol modules: parsing, validation, normalisation."""

from __future__ import annotations

import pytest

from custom_components.inspextor.payload import (
    MalformedPayload,
    ParsedTopic,
    TopicType,
    normalise,
    parse_topic,
    valid_command,
    valid_status,
)
from custom_components.inspextor.sitemap import Kind, SiteMapError, parse_site_map


def test_yaml_and_json_are_the_same_map() -> None:
    """JSON and YAML give the same devices; site defaults apply where valid."""
    yaml_text = """
subtopics: {M: brightness, C: color, P: position}
devices:
  b5ea3f/42: {name: Kitchen, kind: light, area: Kitchen}
  b5ea3f/43: {name: Strip, kind: rgbw_light, subtopics: {B: brightness}}
  42: {name: Numbered, kind: ozone, model: O3-1, sw_version: 1.2}
"""
    json_text = (
        '{"subtopics": {"M": "brightness", "C": "color", "P": "position"},'
        ' "devices": {"b5ea3f/42": {"name": "Kitchen", "kind": "light", "area": "Kitchen"},'
        ' "b5ea3f/43": {"name": "Strip", "kind": "rgbw_light", "subtopics": {"B": "brightness"}},'
        ' "42": {"name": "Numbered", "kind": "ozone", "model": "O3-1", "sw_version": "1.2"}}}'
    )
    from_yaml, from_json = parse_site_map(yaml_text), parse_site_map(json_text)
    assert from_yaml == from_json
    kitchen = from_yaml.devices["b5ea3f/42"]
    assert kitchen.kind is Kind.LIGHT
    assert kitchen.area == "Kitchen"
    assert kitchen.capability_for("M") == "brightness"
    assert kitchen.capability_for("C") is None  # colour is not a light's capability
    assert kitchen.subtopic_for("brightness") == "M"
    strip = from_yaml.devices["b5ea3f/43"]
    assert strip.capability_for("M") is None  # overridden by the device's own code
    assert strip.subtopic_for("brightness") == "B"
    assert strip.subtopic_for("color") == "C"
    assert strip.is_commandable("color")
    numbered = from_yaml.devices["42"]
    assert (numbered.model, numbered.sw_version) == ("O3-1", "1.2")
    assert not numbered.is_commandable("ozone")
    assert numbered.subtopic_for("ozone") == "ozone"


@pytest.mark.parametrize("text", ["", "   ", "null", "devices:", "{}"])
def test_empty_maps(text: str) -> None:
    """An empty site map is valid: every device may announce itself."""
    assert parse_site_map(text).devices == {}


@pytest.mark.parametrize(
    ("text", "error", "path"),
    [
        ("devices: [a]", "invalid_structure", "devices"),
        ("sites: {}", "invalid_structure", "site map"),
        ("subtopics: [M]", "invalid_structure", "subtopics"),
        ("subtopics: {M: warp}", "invalid_capability", "subtopics"),
        ("subtopics: {M/x: brightness}", "invalid_subtopic", "subtopics"),
        ("subtopics: {announce: brightness}", "reserved_subtopic", "subtopics"),
        ("devices: {a: light}", "invalid_structure", "a"),
        ("devices: {a: {name: A, kind: light, colour: red}}", "invalid_structure", "a"),
        ("devices: {a: {kind: light}}", "empty_name", "a"),
        ("devices: {a: {name: A}}", "unknown_kind", "a"),
        ("devices: {a: {name: A, kind: light, area: ''}}", "invalid_structure", "a"),
        ("devices: {a: {name: A, kind: light, model: [1]}}", "invalid_structure", "a"),
        ("devices: {'': {name: A, kind: light}}", "invalid_path", ""),
        ("devices: {'/a': {name: A, kind: light}}", "invalid_path", "/a"),
        ("devices: {'a/#': {name: A, kind: light}}", "invalid_path", "a/#"),
        (
            "devices: {a: {name: A, kind: shade, subtopics: {'': position}}}",
            "invalid_subtopic",
            "a",
        ),
        ("devices: {a: {name: A, kind: shade, subtopics: {M: 5}}}", "invalid_capability", "a"),
        ("devices:\n  a: {name: A\n", "invalid_syntax", "site map"),
    ],
)
def test_errors_name_the_field(text: str, error: str, path: str) -> None:
    """Every error names where it is and what is wrong."""
    with pytest.raises(SiteMapError) as err:
        parse_site_map(text)
    assert err.value.error == error
    assert err.value.path == path
    assert err.value.detail
    assert err.value.placeholders == {"path": path, "detail": err.value.detail}


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("inspextor/b5ea3f/42/M/status", ParsedTopic(TopicType.STATUS, "b5ea3f/42", "M")),
        ("inspextor/d/M/command", ParsedTopic(TopicType.COMMAND, "d", "M")),
        ("inspextor/b5ea3f/42/availability", ParsedTopic(TopicType.AVAILABILITY, "b5ea3f/42")),
        ("inspextor/x/announce", ParsedTopic(TopicType.ANNOUNCE, "x")),
        ("inspextor/ask", ParsedTopic(TopicType.ASK, "")),
        ("inspextor/x/ask", ParsedTopic(TopicType.ASK, "x")),
        ("inspextor/M/status", None),
        ("inspextor/announce", None),
        ("inspextor/x/M/other", None),
        ("other/x/M/status", None),
        ("inspextor/x//status", None),
    ],
)
def test_parse_topic(topic: str, expected: ParsedTopic | None) -> None:
    """Topics parse from their end: type, then subtopic, then the device path."""
    assert parse_topic("inspextor", topic) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"255", {"value": 255}),
        (b"ON", {"value": "ON"}),
        ("21.5", {"value": 21.5}),
        (b"true", {"value": True}),
        (b'"text"', {"value": "text"}),
        (b'{"value": 1, "cid": "c"}', {"value": 1, "cid": "c"}),
        (b"null", {"value": None}),
    ],
)
def test_normalise(payload: bytes | str, expected: dict[str, object]) -> None:
    """Scalars keep their JSON type; non-JSON becomes a string."""
    assert normalise(payload) == expected


@pytest.mark.parametrize("payload", [b"\xc3\x28", b"[]", b'{"v": 1}'])
def test_malformed(payload: bytes) -> None:
    """Non-UTF-8, arrays and objects without value are malformed."""
    with pytest.raises(MalformedPayload):
        normalise(payload)


@pytest.mark.parametrize(
    ("kind", "capability", "value", "status_ok", "command_ok"),
    [
        (Kind.LIGHT, "brightness", 0, True, True),
        (Kind.LIGHT, "brightness", 255, True, True),
        (Kind.LIGHT, "brightness", 256, False, False),
        (Kind.LIGHT, "brightness", True, False, False),
        (Kind.LIGHT, "brightness", 1.5, False, False),
        (Kind.RGBW_LIGHT, "color", [1, 2, 3, 4], True, True),
        (Kind.RGBW_LIGHT, "color", [1, 2, 3], False, False),
        (Kind.RGBW_LIGHT, "color", [1, 2, 3, 256], False, False),
        (Kind.SHADE, "position", 100, True, True),
        (Kind.SHADE, "position", 101, False, False),
        (Kind.SHADE, "motion", "opening", True, False),
        (Kind.SHADE, "motion", "stop", False, True),
        (Kind.MOTION, "motion", False, True, False),
        (Kind.MOTION, "motion", "on", False, False),
        (Kind.STEINEL, "illuminance", 10.5, True, False),
        (Kind.OZONE, "ozone", "5", False, False),
        (Kind.OZONE, "unknown", 5, False, False),
    ],
)
def test_value_types(
    kind: Kind, capability: str, value: object, status_ok: bool, command_ok: bool
) -> None:
    """Each capability accepts its own type and range only."""
    assert valid_status(kind, capability, value) is status_ok
    assert valid_command(kind, capability, value) is command_ok
