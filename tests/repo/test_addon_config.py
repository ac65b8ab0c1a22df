"""addon/config.yaml and its neighbours, checked against the Supervisor's own rules."""

from __future__ import annotations

import re
import struct
from typing import Any
import zlib

import pytest
import voluptuous as vol

import cloud_bridge
from tests.repo import supervisor
from tests.repo.addon_files import ADDON, ROOT, addon_config, load_yaml


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return addon_config()


def test_required_keys_and_identity(config: dict[str, Any]) -> None:
    missing = [key for key in supervisor.REQUIRED_KEYS if not config.get(key)]
    assert not missing, f"config.yaml lacks {missing}"
    assert supervisor.RE_SLUG.match(config["slug"])
    assert config["slug"] == "inspextor_cloud_bridge"
    assert isinstance(config["version"], str), "quote the version: YAML reads 0.10 as 0.1"
    assert config["version"] == cloud_bridge.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", config["version"])


def test_runtime_settings(config: dict[str, Any]) -> None:
    assert set(config["arch"]) == {"aarch64", "amd64"}
    assert set(config["arch"]) <= supervisor.ARCH_ALL
    assert config["init"] is False, "s6-overlay is PID 1: Docker's init must be off"
    assert config["startup"] in supervisor.STARTUP
    assert config["boot"] in supervisor.BOOT
    assert config["homeassistant_api"] is True, "the bridge needs SUPERVISOR_TOKEN"
    assert config["discovery"] == ["inspextor"]
    assert str(config["homeassistant"]) == "2025.4.0"
    assert vol.Url()(config["url"])


def test_map_is_valid_and_ssl_is_read_only(config: dict[str, Any]) -> None:
    for entry in config["map"]:
        match = supervisor.RE_VOLUME.match(entry)
        assert match, f"the Supervisor silently drops map entry {entry!r}"
        if match.group(1) == "ssl":
            assert match.group(2) != "rw", "certificates are only read"
    assert any(entry.split(":")[0] == "ssl" for entry in config["map"])


def test_ports_match_the_api_port(config: dict[str, Any]) -> None:
    ports = config["ports"]
    assert all(supervisor.RE_PORT_KEY.match(key) for key in ports)
    api_port = config["options"]["api_port"]
    assert ports == {f"{api_port}/tcp": None}, "the API port is declared, not published"
    assert set(config["ports_description"]) == set(ports)


def test_schema_elements_are_valid(config: dict[str, Any]) -> None:
    bad = {k: t for k, t in config["schema"].items() if not supervisor.RE_SCHEMA_ELEMENT.match(t)}
    assert not bad, f"the Supervisor cannot parse these schema types: {bad}"


def test_every_option_has_a_schema_entry_and_back(config: dict[str, Any]) -> None:
    options, schema = config["options"], config["schema"]
    assert set(options) <= set(schema), f"options without schema: {set(options) - set(schema)}"
    not_offered = {k for k, t in schema.items() if k not in options and not t.endswith("?")}
    assert not not_offered, f"required options missing from options: {not_offered}"
    for key, typ in schema.items():
        if typ.endswith("?"):
            # the Supervisor refuses null even for optional options: leave them out
            assert options.get(key, "left out") is not None, key


def test_defaults_pass_the_supervisor_except_the_ones_the_user_must_fill(
    config: dict[str, Any],
) -> None:
    schema, options = config["schema"], config["options"]
    must_fill = {key for key, value in options.items() if value is None}
    assert must_fill == {"contract_id", "instance_id", "instance_password", "name", "endpoint"}
    with pytest.raises(vol.Invalid):
        supervisor.validate_options(schema, options)
    filled = {key: ("x" if key in must_fill else value) for key, value in options.items()}
    validated = supervisor.validate_options(schema, filled)
    assert validated["keepalive"] == 45


def test_secrets_are_password_fields(config: dict[str, Any]) -> None:
    schema = config["schema"]
    assert schema["instance_password"].startswith("password")
    assert schema["mqtt_password"].startswith("password")
    assert schema["aws_access_key_id"].startswith("password")
    assert schema["aws_secret_access_key"].startswith("password")


def test_translations_name_and_describe_every_option(config: dict[str, Any]) -> None:
    translations = load_yaml(ADDON / "translations" / "en.yaml")
    fields = translations["configuration"]
    assert set(fields) == set(config["schema"])
    for key, text in fields.items():
        assert text.get("name"), f"{key} has no name"
        assert text.get("description"), f"{key} has no description"
    assert set(translations["network"]) == set(config["ports"])


def test_build_yaml_names_a_base_image_per_arch(config: dict[str, Any]) -> None:
    build = load_yaml(ADDON / "build.yaml")
    assert set(build["build_from"]) == set(config["arch"])
    for image in build["build_from"].values():
        assert supervisor.RE_DOCKER_IMAGE_BUILD.match(image), image
        assert "python:3.13" in image
    archive = build["args"]["BRIDGE_ARCHIVE"]
    assert archive.endswith(f"/v{config['version']}.tar.gz"), "archive must match the version"
    assert all(isinstance(v, str) for v in build["args"].values())


def test_dockerfile_builds_from_build_from_and_copies_what_exists() -> None:
    lines = [
        line.strip()
        for line in (ADDON / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "ARG BUILD_FROM"
    assert lines[1] == "FROM ${BUILD_FROM}"
    assert "ARG BRIDGE_ARCHIVE" in lines
    for line in lines:
        if line.startswith("COPY "):
            source = line.split()[1]
            assert (ADDON / source).exists(), f"{source} is not in the build context"
    text = "\n".join(lines)
    assert "-r /tmp/requirements.txt" in text
    assert "/opt/venv" in text


def test_requirements_are_pinned_to_the_lock_file() -> None:
    lock = {
        name.lower(): version
        for name, version in re.findall(
            r"^([A-Za-z0-9_.-]+)==(\S+)$",
            (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    }
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)==(\S+)$",
        (ADDON / "requirements.txt").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    names = {name.lower() for name, _ in pins}
    assert {"awsiotsdk", "awscrt", "paho-mqtt", "aiohttp", "pyyaml"} <= names
    # voluptuous is the integration's (HA ships it); the bridge never imports it.
    assert "voluptuous" not in names
    assert "cryptography" in names
    for name, version in pins:
        assert lock.get(name.lower()) == version, f"{name}=={version} differs from the lock file"


def test_changelog_starts_with_this_version(config: dict[str, Any]) -> None:
    changelog = (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert first is not None
    assert first.group(1) == config["version"]


def test_docs_describe_every_option(config: dict[str, Any]) -> None:
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    undocumented = [key for key in config["schema"] if f"`{key}`" not in docs]
    assert not undocumented, f"DOCS.md does not describe {undocumented}"
    assert "/ssl/inspextor/" in docs


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, size = 8, (0, 0)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        tag = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc, f"bad CRC in {tag!r}"
        if tag == b"IHDR":
            size = struct.unpack(">II", body[:8])
        if tag == b"IEND":
            return size
        offset += 12 + length
    raise AssertionError("PNG has no IEND")


@pytest.mark.parametrize(("name", "size"), [("icon.png", (128, 128)), ("logo.png", (250, 100))])
def test_images_are_valid_pngs(name: str, size: tuple[int, int]) -> None:
    assert _png_size((ADDON / name).read_bytes()) == size


def test_png_check_catches_corruption() -> None:
    data = bytearray((ADDON / "icon.png").read_bytes())
    data[40] ^= 0xFF
    with pytest.raises(AssertionError):
        _png_size(bytes(data))


def test_apparmor_profile_confines_the_bridge(config: dict[str, Any]) -> None:
    text = (ADDON / "apparmor.txt").read_text(encoding="utf-8")
    rules = [line.split("#")[0].strip() for line in text.splitlines()]
    rules = [rule for rule in rules if rule]
    assert text.count("{") == text.count("}")
    assert f"profile {config['slug']} flags=(attach_disconnected,mediate_deleted) {{" in rules
    child = rules[
        rules.index("profile inspextor_bridge flags=(attach_disconnected,mediate_deleted) {") :
    ]
    assert "/usr/local/bin/python3* cx -> inspextor_bridge," in rules
    assert "/data/** rwk," in child, "SQLite needs read, write and locks in /data"
    assert "/ssl/** r," in child
    assert not [rule for rule in child if rule.startswith("/ssl") and "w" in rule.split()[-1]]
    assert f"signal (receive) peer=*_{config['slug']}," in child
    assert all(rule.endswith((",", "{", "}")) for rule in rules), "a rule lacks its comma"


def test_repository_yaml() -> None:
    repository = load_yaml(ROOT / "repository.yaml")
    assert set(repository) == {"name", "url", "maintainer"}
    assert vol.Url()(repository["url"])
