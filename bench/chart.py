"""The scale chart: the figures as JSON beside docs/benchmarks.md, then a PNG of them.

Plotting needs matplotlib, which lives in `.venv-tools` (requirements/tools.txt) so that
HA's own pins never meet it; bench/plot_scale.py runs there as a plain script.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import subprocess
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLOTTER = ROOT / "bench" / "plot_scale.py"
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"
_LOGGER = logging.getLogger(__name__)


def write(part: str, data: dict[str, Any], path: Path) -> Path | None:
    """Merge `data` under `part` into the JSON at `path`, then render `path` as PNG.

    Returns the PNG's path, or None (with the reason logged) when it could not be made.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    figures[part] = data
    path.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    png = path.with_suffix(".png")
    if not TOOLS_PYTHON.exists():
        _LOGGER.warning("no %s: run scripts/bootstrap.sh to plot %s", TOOLS_PYTHON, png)
        return None
    done = subprocess.run(
        [str(TOOLS_PYTHON), str(PLOTTER), str(path), str(png)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        _LOGGER.warning("plotting %s failed: %s", png, done.stderr.strip()[-500:])
        return None
    return png
