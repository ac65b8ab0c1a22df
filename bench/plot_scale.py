"""Plot docs/images/scale.json as a PNG (run with .venv-tools/bin/python; needs matplotlib).

Usage: plot_scale.py FIGURES.json OUT.png. Three panels: set-up time and ingest rate
against devices for ours, the floor and HA's MQTT platforms (benchmark 4), and the
bridge's RSS against entities (benchmark 7). A panel with no figures yet says so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
import sys

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

LABELS = {"ours": "InspeXtor", "floor": "floor (HA's own cost)", "mqtt": "HA MQTT platforms"}


def _series(points: dict[str, dict[str, float]], key: str) -> tuple[list[int], list[float]]:
    pairs = sorted(
        (int(size), fig[key])
        for size, fig in points.items()
        if isinstance(fig.get(key), (int, float)) and not math.isnan(fig[key])
    )
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _panel(ax, data: dict, key: str, title: str, unit: str) -> None:
    ax.set_title(title)
    ax.set_ylabel(unit)
    plotted = False
    for side, label in LABELS.items():
        xs, ys = _series(data.get(side, {}), key)
        if xs:
            ax.plot(xs, ys, marker="o", label=label)
            plotted = True
    if plotted:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    else:
        ax.text(0.5, 0.5, "not measured in this run", ha="center", transform=ax.transAxes)


def main(source: Path, out: Path) -> None:
    figures = json.loads(source.read_text())
    home = figures.get("home", {})
    bridge = {"ours": figures.get("bridge", {})}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    _panel(axes[0], home, "setup_s", "Set-up: hass start → every entity has a state", "s")
    _panel(axes[1], home, "ingest", "Ingest: status messages to entity states", "msgs/s")
    # the bridge's figures are one side with three keys: plot each key as a line
    rss = {key: bridge["ours"] for key in ("idle_mib", "peak_mib", "naive_peak_mib")}
    axes[2].set_title("Bridge RSS against entities")
    axes[2].set_ylabel("MiB")
    lines = {
        "idle_mib": "bridge idle",
        "peak_mib": "bridge, peak at 1,000 changes/s",
        "naive_peak_mib": "naive forwarder, peak",
    }
    for key, label in lines.items():
        xs, ys = _series(rss[key], key)
        if xs:
            axes[2].plot(xs, ys, marker="o", label=label)
    axes[2].legend(fontsize=8)
    axes[2].grid(alpha=0.3)
    for ax in axes[:2]:
        ax.set_xlabel("devices")
    axes[2].set_xlabel("entities")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
