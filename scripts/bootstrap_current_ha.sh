#!/usr/bin/env bash
# Bootstrap the "current Home Assistant" test tree: what our users run today.
#
#   .py314/prefix   Python 3.14 from Debian's development release ("sid"), unpacked from
#                   its binary packages (Debian 12 ships no 3.14 and its source packages
#                   are not served here), made runnable in place with patchelf.
#   .venv-current   a venv on that Python with requirements/lock-current-ha.txt
#                   (Home Assistant 2026.x and the pytest plugin that pins it), by uv.
#
# Nothing touches the system's apt: the sid index lives in a private apt state under
# .py314/apt (own sources list, lists, cache and an empty dpkg status), and only the
# exact package files listed in requirements/py314-debs.sha256 are used, each checked
# against its recorded sha256. Run as root on Debian 12 (patchelf comes from Debian 12).
# Idempotent: a second run with unchanged checksum and lock files only checks.
#
# Usage: scripts/bootstrap_current_ha.sh           set up or check
#        scripts/bootstrap_current_ha.sh --record  resolve python3.14 and pip's wheel
#                                                  anew from sid, rewrite the checksums
# INSPEXTOR_PYTHON314=python3.14 skips the sid packages and uses that Python (hosted CI).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYDIR=$ROOT/.py314
PREFIX=$PYDIR/prefix
APTDIR=$PYDIR/apt
DEBS=$APTDIR/cache/archives
VENV=$ROOT/.venv-current
SUMS=requirements/py314-debs.sha256
LOCK=requirements/lock-current-ha.txt
PY=$PREFIX/usr/bin/python3.14
LIBDIRS=$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu
START=$SECONDS
log() { printf '[bootstrap-current] %s\n' "$*" >&2; }
die() { printf '[bootstrap-current] ERROR: %s\n' "$*" >&2; exit 1; }

RECORD=0
[ "${1:-}" = --record ] && RECORD=1

# The venv is up to date when it was built from these exact checksum and lock files.
WANT=$({ cat "$SUMS" "$LOCK" 2>/dev/null || true; } | sha256sum | cut -d" " -f1)
if [ "$RECORD" = 0 ] && [ -x "$VENV/bin/hass" ] && [ "$(cat "$VENV/.bootstrap.sha256" 2>/dev/null)" = "$WANT" ] \
  && "$VENV/bin/python" -c 'import ssl, sqlite3, homeassistant' 2>/dev/null; then
  log "ready: $("$VENV/bin/python" --version), homeassistant $("$VENV/bin/python" -c 'from homeassistant.const import __version__; print(__version__)')"
  exit 0
fi
if [ -n "${INSPEXTOR_PYTHON314:-}" ]; then
  # Where a Python 3.14 already exists (hosted CI's setup-python): use it, fetch nothing.
  PY=$(command -v "$INSPEXTOR_PYTHON314") || die "INSPEXTOR_PYTHON314=$INSPEXTOR_PYTHON314 is not a command"
  log "using $PY (INSPEXTOR_PYTHON314) instead of Debian sid's packages"
else
[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported (the checksums are for amd64 packages)"

need_tool() {
  # $1 command, $2 the Debian 12 package that has it.
  command -v "$1" >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "$1 is missing: run as root, or apt-get install $2"
  log "installing $2 from the system's own Debian 12 sources (needed: $1)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null \
    || die "apt-get install $2 failed"
}
need_tool patchelf patchelf
need_tool dpkg-deb dpkg

# The same Debian mirror the system uses (override: INSPEXTOR_DEBIAN_MIRROR).
mirror() {
  [ -n "${INSPEXTOR_DEBIAN_MIRROR:-}" ] && { echo "$INSPEXTOR_DEBIAN_MIRROR"; return; }
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -1)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -1)
  [ -n "$uri" ] || die "no Debian mirror in the system's apt sources: set INSPEXTOR_DEBIAN_MIRROR"
  echo "$uri"
}

APT_OPTS=()
private_apt() {
  # A private apt state for sid: nothing is added to, or read from, the system's apt
  # state. The sid index served is frozen past its Valid-Until, hence the option; its
  # signature is still checked against Debian 12's archive keyring.
  mkdir -p "$APTDIR/etc/sources.list.d" "$APTDIR/etc/preferences.d" "$APTDIR/state/lists/partial" "$DEBS/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) sid main" > "$APTDIR/etc/sources.list"
  : > "$APTDIR/status"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APTDIR/etc/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
    -o "Dir::Etc::PreferencesParts=$APTDIR/etc/preferences.d" -o "Dir::State=$APTDIR/state"
    -o "Dir::State::status=$APTDIR/status" -o "Dir::Cache=$APTDIR/cache" -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64" -o "Acquire::Check-Valid-Until=false" -o "APT::Install-Recommends=false"
    -o "APT::Sandbox::User=root" -o "Debug::NoLocking=true" -qq)
  log "reading the sid package index into a private apt state ($APTDIR)"
  apt-get "${APT_OPTS[@]}" update >/dev/null || die "apt-get update of sid failed (is Debian's registry reachable?)"
}

if [ "$RECORD" = 1 ]; then
  private_apt
  rm -f "$DEBS"/*.deb
  log "resolving python3.14 and its libraries (empty dpkg status: the whole closure) + pip's wheel"
  apt-get "${APT_OPTS[@]}" install -y --download-only python3.14 >/dev/null || die "sid has no installable python3.14"
  (cd "$DEBS" && apt-get "${APT_OPTS[@]}" download python3-pip-whl) || die "sid has no python3-pip-whl"
  (cd "$DEBS" && sha256sum -- *.deb) > "$SUMS"
  log "recorded $(wc -l < "$SUMS") packages in $SUMS"
fi

[ -s "$SUMS" ] || die "$SUMS is missing: run scripts/bootstrap_current_ha.sh --record"
mkdir -p "$DEBS"
missing=()
while read -r _ file; do
  [ -f "$DEBS/$file" ] || missing+=("$file")
done < "$SUMS"
if [ ${#missing[@]} -gt 0 ]; then
  private_apt
  log "fetching ${#missing[@]} of $(wc -l < "$SUMS") recorded sid packages"
  specs=()
  for file in "${missing[@]}"; do
    IFS=_ read -r name version _ <<< "${file%.deb}"
    specs+=("$name=${version//%3a/:}")
  done
  (cd "$DEBS" && apt-get "${APT_OPTS[@]}" download "${specs[@]}") \
    || die "sid no longer serves some recorded packages (${specs[*]}): sid moved on; run with --record to pick the new ones, then re-run the tests"
fi
(cd "$DEBS" && sha256sum --quiet -c "$ROOT/$SUMS") \
  || die "a fetched package does not match $SUMS: refusing to use it"

# Unpack into the prefix and point the interpreter at the prefix's own loader and
# libraries (the prefix's libc is newer than Debian 12's). Absolute paths: the repo
# folder must not move afterwards (rm -rf .py314 .venv-current and re-run if it does).
UNPACKED=$(sha256sum "$SUMS" | cut -d' ' -f1):$PREFIX
if [ "$(cat "$PYDIR/.unpacked" 2>/dev/null)" != "$UNPACKED" ] || ! "$PY" -c 'import ssl' 2>/dev/null; then
  log "unpacking $(wc -l < "$SUMS") packages into $PREFIX"
  rm -rf "$PREFIX" "$VENV"
  mkdir -p "$PREFIX"
  while read -r _ file; do dpkg-deb -x "$DEBS/$file" "$PREFIX"; done < "$SUMS"
  LOADER=$PREFIX/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
  [ -e "$LOADER" ] || die "no dynamic loader at $LOADER in the unpacked libc6"
  patchelf --set-interpreter "$LOADER" --force-rpath --set-rpath "$LIBDIRS" "$PY"
  echo "$UNPACKED" > "$PYDIR/.unpacked"
fi
"$PY" -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, readline, uuid, zoneinfo' \
  || die "the unpacked Python 3.14 does not run or misses a standard module"
fi

if [ ! -x "$VENV/bin/python" ]; then
  WHEEL=$(ls "$PREFIX"/usr/share/python-wheels/pip-*.whl 2>/dev/null | head -1 || true)
  if [ -n "$WHEEL" ] && [ -z "${INSPEXTOR_PYTHON314:-}" ]; then
    # Debian's Python has no ensurepip: pip comes from sid's own pip wheel.
    log "creating $VENV ($("$PY" --version)), pip from sid's wheel"
    "$PY" -m venv --without-pip "$VENV"
    "$VENV/bin/python" "$WHEEL/pip" install -q --no-index --no-deps "$WHEEL" || die "installing pip from $WHEEL failed"
  else
    log "creating $VENV ($("$PY" --version))"
    "$PY" -m venv "$VENV" || die "$PY -m venv failed"
  fi
fi
# uv as scripts/bootstrap.sh installs it; without it, the same uv into this venv by pip.
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
if [ ! -x "$UV" ]; then
  UV=$VENV/bin/uv
  [ -x "$UV" ] || "$VENV/bin/python" -m pip install -q "uv==0.13.9" || die "installing uv with pip failed"
fi
[ -f "$LOCK" ] || die "$LOCK is missing (make lock-current writes it)"
log "installing $LOCK into $VENV with uv"
"$UV" pip sync -q -p "$VENV/bin/python" "$LOCK" || die "uv pip sync $LOCK failed"
echo "$WANT" > "$VENV/.bootstrap.sha256"
log "ready in $((SECONDS - START)) s: $("$VENV/bin/python" --version), homeassistant" \
  "$("$VENV/bin/python" -c 'from homeassistant.const import __version__; print(__version__)');" \
  "size: $(du -sh "$PREFIX" | cut -f1) interpreter, $(du -sh "$VENV" | cut -f1) venv, $(du -sh "$DEBS" | cut -f1) packages"
