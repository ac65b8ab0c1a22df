#!/usr/bin/env bash
# `make bench`: bootstrap, then run every benchmark (issue #6) and rewrite
# docs/benchmarks.md. Takes about 22 minutes on a 2-core machine (benchmark 4, three
# hass at 1,000/5,000/10,000 devices, twice each, is half of it); stopped after 30.
# Usage: scripts/bench.sh                 (all seven, rewrites the doc)
#        scripts/bench.sh --only 3,6      (some, printed only)
#        scripts/bench.sh --quick         (tiny sizes: does the code still work?)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PYTHONDONTWRITEBYTECODE=1
exec timeout 1800 .venv/bin/python -m bench "$@"
