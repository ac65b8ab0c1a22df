"""The add-on's s6-overlay services: structure, shebangs, syntax, and the discovery hand-off."""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess

import pytest

from tests.repo.addon_files import ADDON, SERVICES

SHEBANG = "#!/command/with-contenv bashio"
SCRIPTS = [
    SERVICES / "inspextor-bridge" / "run",
    SERVICES / "inspextor-bridge" / "finish",
    SERVICES / "discovery" / "run",
]


def _service_dirs() -> list[Path]:
    return [p for p in SERVICES.iterdir() if p.is_dir() and p.name != "user"]


def test_services_have_the_right_types() -> None:
    types = {p.name: (p / "type").read_text(encoding="utf-8").strip() for p in _service_dirs()}
    assert types == {"inspextor-bridge": "longrun", "discovery": "oneshot"}


def test_user_bundle_starts_every_service() -> None:
    contents = {p.name for p in (SERVICES / "user" / "contents.d").iterdir()}
    assert contents == {p.name for p in _service_dirs()}


def test_dependencies_name_existing_services() -> None:
    names = {p.name for p in _service_dirs()}
    for service in _service_dirs():
        deps = service / "dependencies.d"
        if deps.is_dir():
            assert {p.name for p in deps.iterdir()} <= names | {"base"}
    assert (SERVICES / "discovery" / "dependencies.d" / "inspextor-bridge").exists()


def test_oneshot_up_runs_an_existing_script() -> None:
    up = (SERVICES / "discovery" / "up").read_text(encoding="utf-8").strip()
    assert up.startswith("/etc/s6-overlay/s6-rc.d/")
    target = ADDON / "rootfs" / up.lstrip("/")
    assert target.is_file()
    assert target in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_scripts_are_executable_bashio_with_valid_syntax(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SHEBANG
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert "\r" not in text, "CRLF line endings break the shebang"
    bash = shutil.which("bash")
    assert bash is not None
    result = subprocess.run(
        [bash, "-n", str(script)], capture_output=True, text=True, timeout=10, check=False
    )
    assert result.returncode == 0, result.stderr


def test_bash_syntax_check_catches_errors(tmp_path: Path) -> None:
    broken = tmp_path / "run"
    broken.write_text(f"{SHEBANG}\nif true; then\n  echo\n", encoding="utf-8")
    result = subprocess.run(
        ["bash", "-n", str(broken)], capture_output=True, text=True, timeout=10, check=False
    )
    assert result.returncode != 0


def test_bridge_service_runs_the_bridge_with_the_addon_options() -> None:
    text = (SERVICES / "inspextor-bridge" / "run").read_text(encoding="utf-8")
    assert "exec /opt/venv/bin/python -m cloud_bridge run --config /data/options.json" in text
    assert "bashio::config 'log_level'" in text


def test_discovery_reads_the_token_where_the_bridge_writes_it() -> None:
    from cloud_bridge import config as bridge_config

    text = (SERVICES / "discovery" / "run").read_text(encoding="utf-8")
    default_dir = bridge_config.BridgeConfig.__dataclass_fields__["data_dir"].default
    token_path = Path(str(default_dir)) / "api_token"
    assert f"token_file={token_path}" in text
    assert 'bashio::discovery "inspextor"' in text
    for key in ("host", "port", "token"):
        assert f"    {key} " in text, f"discovery payload lacks {key}"
    assert "bashio::config 'api_port'" in text


def test_bridge_writes_the_token_file_discovery_waits_for(tmp_path: Path) -> None:
    from cloud_bridge import config as bridge_config

    options = {
        "contract_id": "C1001",
        "instance_id": "home-0042",
        "instance_password": "pw",
        "endpoint": "broker.example.com",
    }
    env = {"SUPERVISOR_TOKEN": "t", "INSPEXTOR_DATA_DIR": str(tmp_path)}
    cfg = bridge_config.parse_options(options, env)
    token = bridge_config.ensure_api_token(cfg)
    token_file = tmp_path / "api_token"
    assert token_file.read_text(encoding="utf-8").strip() == token
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert bridge_config.ensure_api_token(cfg) == token, "the token must survive restarts"


def test_run_script_command_line_reaches_the_bridge_and_reports_bad_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exact arguments the run script passes are accepted, and a bad option in
    options.json stops the bridge with a log line naming it (what the user sees)."""
    import json
    import shlex

    from cloud_bridge.__main__ import main

    text = (SERVICES / "inspextor-bridge" / "run").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith("exec ")]
    argv = shlex.split(line)
    args = argv[argv.index("cloud_bridge") + 1 :]
    options = tmp_path / "options.json"
    options.write_text(
        json.dumps(
            {
                "contract_id": "C1001",
                "instance_id": "home-0042",
                "instance_password": "secret-pw",
                "endpoint": "broker.example.com",
                "keepalive": 600,
            }
        ),
        encoding="utf-8",
    )
    args[args.index("/data/options.json")] = str(options)
    monkeypatch.setenv("SUPERVISOR_TOKEN", "supervisor-token")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "keepalive" in err
    assert "secret-pw" not in err
