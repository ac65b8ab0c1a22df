#!/usr/bin/env bash
# `make bench`: bootstrap, then run every benchmark (issue #6) and rewrite
# docs/benchmarks.md. Takes under 10 minutes on a 2-core machine.
# Usage: scripts/bench.sh                 (all seven, rewrites the doc)
#        scripts/bench.sh --only 3,6      (some, printed only)
#        scripts/bench.sh --quick         (tiny sizes: does the code still work?)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PYTHONDONTWRITEBYTECODE=1
exec timeout 900 .venv/bin/python -m bench "$@"
