#!/usr/bin/env bash
# Bootstrap everything the demo and the tests need on a fresh Debian machine:
#   - Python 3.13 (pyenv's, or python3.13 on PATH)
#   - uv, then .venv with the pinned tree in requirements/lock.txt
#   - Mosquitto (the real broker for tests), Chromium + chromedriver (browser test)
# Idempotent: a second run with an unchanged lock file only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
log() { printf '[bootstrap] %s\n' "$*" >&2; }

find_python() {
  local cand
  for cand in "${INSPEXTOR_PYTHON:-}" \
              "$(command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.13.0 2>/dev/null)/bin/python3.13" \
              "$(command -v python3.13 || true)" \
              /root/.pyenv/versions/3.13.0/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import sys; assert sys.version_info[:2] >= (3, 13)' 2>/dev/null \
      && { echo "$cand"; return 0; }
  done
  return 1
}

apt_install() {
  # Install Debian packages when missing and we can (root, apt available).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "WARNING: missing ${missing[*]} and cannot install them (not root); tests that need them will skip"
  fi
}

PY=$(find_python) || { log "Python 3.13 not found: install it (pyenv install 3.13.0) or set INSPEXTOR_PYTHON"; exit 1; }

if ! command -v uv >/dev/null 2>&1; then
  log "installing uv"
  "$PY" -m pip install -q --user "uv==0.13.9" || "$PY" -m pip install -q "uv==0.13.9"
  export PATH="$HOME/.local/bin:$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
fi

STAMP=$VENV/.lock.sha256
WANT=$(sha256sum requirements/lock.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  log "creating $VENV with $PY"
  [ -x "$VENV/bin/python" ] || uv venv -q -p "$PY" "$VENV"
  uv pip sync -q -p "$VENV/bin/python" requirements/lock.txt
  echo "$WANT" > "$STAMP"
fi

# cfn-lint pins a newer PyYAML than Home Assistant 2025.4 allows, matplotlib (the bench
# chart) should never meet HA's pins, and moto_server (the S3 server of the store channel
# tests) brings a botocore of its own: they live in their own venv.
TOOLS=$ROOT/.venv-tools
TWANT=$(sha256sum requirements/tools.txt | cut -d' ' -f1)
if [ ! -x "$TOOLS/bin/cfn-lint" ] || [ "$(cat "$TOOLS/.lock.sha256" 2>/dev/null)" != "$TWANT" ]; then
  log "creating $TOOLS (cfn-lint, matplotlib, moto_server)"
  [ -x "$TOOLS/bin/python" ] || uv venv -q -p "$PY" "$TOOLS"
  uv pip install -q -p "$TOOLS/bin/python" -r requirements/tools.txt
  echo "$TWANT" > "$TOOLS/.lock.sha256"
fi

[ "${BOOTSTRAP_SKIP_APT:-0}" = 1 ] || apt_install mosquitto ${BOOTSTRAP_BROWSER:+chromium chromium-driver}
log "ready: $("$VENV/bin/python" --version), mosquitto: $(command -v mosquitto || echo missing)"
