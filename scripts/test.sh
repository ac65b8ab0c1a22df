#!/usr/bin/env bash
# The whole test command: bootstrap, lint, type-check, then every suite, on the Home
# Assistant we support at the least (2025.4.4, Python 3.13, .venv) and on the one users
# run today (2026.x, Python 3.14, .venv-current from scripts/bootstrap_current_ha.sh).
# Usage: scripts/test.sh            (everything, what CI runs)
#        scripts/test.sh -k expr    (extra arguments go to every pytest run)
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_BROWSER=1 scripts/bootstrap.sh
scripts/bootstrap_current_ha.sh
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
step "integration tests (pytest-homeassistant-custom-component, HA 2025.4.4, Python 3.13)"
$PY -m pytest tests/components -p no:cacheprovider -q \
  --cov=custom_components/inspextor --cov-report=term --cov-fail-under=95 "$@"

step "integration tests on what users run today ($(.venv-current/bin/hass --version), Python 3.14)"
# The same tests, unchanged; the coverage floor is the 2025.4 run's.
.venv-current/bin/python -m pytest tests/components -p no:cacheprovider -q "$@"

step "bridge, simulator, dev cloud, repository and end-to-end tests (real Mosquitto, hass, Chromium)"
# One session, one coverage figure: the devstack is exercised only end to end.
$PY -m pytest tests/bridge tests/repo tests/e2e tests/reliability -p no:homeassistant -p no:cacheprovider -q \
  -m "not current_ha" --cov=cloud_bridge --cov=devkit --cov-report=term --cov-fail-under=90 "$@"

step "end-to-end smoke with a real hass $(.venv-current/bin/hass --version) (config flow, entities, a confirmed command)"
DEVSTACK_HASS=$PWD/.venv-current/bin/hass $PY -m pytest tests/e2e/test_current_ha.py -m current_ha \
  -p no:homeassistant -p no:cacheprovider -q "$@"
