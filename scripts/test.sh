#!/usr/bin/env bash
# The whole test command: bootstrap, lint, type-check, then every suite.
# Usage: scripts/test.sh            (everything, what CI runs)
#        scripts/test.sh -k expr    (extra arguments go to every pytest run)
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_BROWSER=1 scripts/bootstrap.sh
PY=.venv/bin/python
export PYTHONDONTWRITEBYTECODE=1
step() { printf '\n=== %s ===\n' "$*"; }

step "ruff"
$PY -m ruff check .
$PY -m ruff format --check .

step "mypy --strict"
$PY -m mypy

if [ -f deploy/aws/template.yaml ]; then
  step "cfn-lint"
  .venv-tools/bin/cfn-lint deploy/aws/template.yaml
fi

rm -f .coverage .coverage.*
step "integration tests (pytest-homeassistant-custom-component, HA 2025.4.4)"
$PY -m pytest tests/components -p no:cacheprovider -q \
  --cov=custom_components/inspextor --cov-report=term --cov-fail-under=95 "$@"

step "bridge, simulator, dev cloud, repository and end-to-end tests (real Mosquitto, hass, Chromium)"
# One session, one coverage figure: the devstack is exercised only end to end.
$PY -m pytest tests/bridge tests/repo tests/e2e tests/reliability -p no:homeassistant -p no:cacheprovider -q \
  --cov=cloud_bridge --cov=devkit --cov-report=term --cov-fail-under=90 "$@"
