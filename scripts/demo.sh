#!/usr/bin/env bash
# The main job: HA with the integration, simulated devices, the bridge and the dev cloud,
# all local. Bootstraps first; Ctrl-C stops everything. State is kept in .demo/ so a second
# run reuses the HA user, token and entries (delete .demo/ to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m devkit.devstack demo --workdir .demo "$@"
