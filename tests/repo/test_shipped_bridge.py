"""What the add-on image holds is what a home runs: `cloud_bridge` alone, and only its pins.

The simulator, the dev cloud and the demo stack live in `devkit/` and are never shipped;
`cloud_bridge` must not import them. The vendored tree is built exactly as
`addon/vendor.sh` builds it, then imported in a fresh venv that has nothing but
`addon/requirements.txt`, and every pin there must be needed by what the bridge imports.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

from tests.repo.addon_files import ADDON, ROOT

BRIDGE = ROOT / "cloud_bridge"
# Top-level names the shipped bridge may never import: dev tools, tests, HA itself.
NOT_SHIPPED = {"devkit", "bench", "tests", "custom_components", "homeassistant", "amqtt"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_bridge_imports_no_dev_tool() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & NOT_SHIPPED)
        for path in sorted(BRIDGE.rglob("*.py"))
        if _imports(path) & NOT_SHIPPED
    }
    assert not offenders, f"cloud_bridge imports what the add-on does not ship: {offenders}"


def test_dev_tools_are_not_inside_the_bridge() -> None:
    for name in ("simulator", "devcloud", "devstack"):
        assert not (BRIDGE / name).exists(), f"cloud_bridge/{name} belongs in devkit/"
        assert (ROOT / "devkit" / name / "__main__.py").is_file()


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    local = Path.home() / ".local" / "bin" / "uv"
    return str(local) if local.is_file() else None


@pytest.fixture(scope="module")
def vendored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run a copy of addon/vendor.sh beside a copy of the package, as a build would."""
    work = tmp_path_factory.mktemp("image")
    shutil.copytree(BRIDGE, work / "cloud_bridge", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "addon").mkdir()
    shutil.copy2(ADDON / "vendor.sh", work / "addon" / "vendor.sh")
    subprocess.run(["bash", str(work / "addon" / "vendor.sh")], check=True, capture_output=True)
    return work / "addon" / "vendor"


def test_the_vendored_tree_holds_the_bridge_alone(vendored: Path) -> None:
    assert sorted(p.name for p in vendored.iterdir()) == ["cloud_bridge"]
    shipped = {p.relative_to(vendored / "cloud_bridge") for p in vendored.rglob("*.py")}
    source = {p.relative_to(BRIDGE) for p in BRIDGE.rglob("*.py")}
    assert shipped == source
    assert not list(vendored.rglob("__pycache__"))


# Run inside the fresh venv: import every shipped module, then report which distributions
# that pulled in, with the closure of their requirements (markers evaluated).
_PROBE = r"""
import importlib, json, pkgutil, re, sys
from importlib import metadata
import cloud_bridge
for mod in pkgutil.walk_packages(cloud_bridge.__path__, "cloud_bridge."):
    importlib.import_module(mod.name)
top = {name.split(".")[0] for name in sys.modules}
from packaging.markers import Marker
owners = metadata.packages_distributions()
wanted = {dist for name in top for dist in owners.get(name, [])}
def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()
seen, todo = set(), [norm(d) for d in wanted]
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        continue
    for req in dist.requires or []:
        head, _, marker = req.partition(";")
        if marker and "extra" in marker:
            continue
        if marker and not Marker(marker).evaluate():
            continue
        todo.append(norm(re.split(r"[ <>=!~\[(]", head.strip(), maxsplit=1)[0]))
print(json.dumps(sorted(seen)))
"""


def _pins() -> list[str]:
    lines = (ADDON / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("==")[0].strip() for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with addon/requirements.txt only, plus `packaging` for the probe's markers."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    uv = _uv()
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    reqs = str(ADDON / "requirements.txt")
    if uv:
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "-p",
                str(venv / "bin" / "python"),
                "-r",
                reqs,
                "packaging",
            ],
            check=True,
            env=env,
        )
    else:  # pragma: no cover - bootstrap always installs uv
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "-r", reqs, "packaging"], check=True
        )
    return venv


def test_the_image_imports_with_its_requirements_only_and_needs_every_pin(
    vendored: Path, image_venv: Path
) -> None:
    out = subprocess.run(
        [
            str(image_venv / "bin" / "python"),
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(vendored)!r})\n{_PROBE}",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=image_venv,
    )
    needed = set(json.loads(out.stdout))
    unused = [pin for pin in _pins() if pin.lower().replace("_", "-") not in needed]
    assert not unused, f"addon/requirements.txt pins what the bridge never needs: {unused}"
