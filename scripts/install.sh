#!/usr/bin/env bash
# Create .venv and install facestream's dependencies into it.
#   scripts/install.sh           runtime dependencies
#   scripts/install.sh --dev     and the test tools
# Re-running is cheap: a stamp records what was installed and skips the rest.
# DLIB=auto|source|bin chooses how dlib is installed (see scripts/install-dlib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "facestream needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(pick_python)
  echo "==> creating $VENV with $($PY --version)"
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "==> installing python3-venv"
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$PY" -m venv "$VENV"
    else
      echo "cannot create a virtual environment: install python3-venv (sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi

# Fonts for names in every script on the stream, for running and testing; checked on every run (cheap when present).
scripts/install-fonts.sh
# The browser test's Chromium, the MQTT tests' Mosquitto and the PostgreSQL tests' server come from apt, not pip: checked on every run (cheap
# when present).
[ "$DEV" = 1 ] && scripts/install-browser.sh
[ "$DEV" = 1 ] && scripts/install-mosquitto.sh
[ "$DEV" = 1 ] && scripts/install-postgresql.sh

wanted="$(cat requirements.txt scripts/install.sh scripts/install-dlib.sh | sha256sum | cut -c1-16)-dlib:${DLIB:-auto}"
[ "$DEV" = 1 ] && wanted="$wanted-dev:$(sha256sum < requirements-dev.txt | cut -c1-16)"
stamp="$VENV/.facestream-installed"
installed=$(cat "$stamp" 2>/dev/null || true)
# A test install (--dev) holds everything `make run` needs: no reinstall between the two.
if [ "$installed" = "$wanted" ] || { [ "$DEV" = 0 ] && [ "${installed%%-dev:*}" = "$wanted" ]; }; then
  exit 0
fi

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
echo "==> installing Python packages into $VENV"
"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q -r requirements.txt
VENV="$VENV" scripts/install-dlib.sh
echo "==> installing face_recognition (without its dlib dependency: installed above)"
"${PIP[@]}" install -q --no-deps face_recognition==1.3.0
[ "$DEV" = 1 ] && "${PIP[@]}" install -q -r requirements-dev.txt
"$VENV/bin/python" -c '
from shared.faces import facelib
facelib.load()
import dlib
print("==> face_recognition works; dlib", dlib.__version__, "BLAS:", getattr(dlib, "DLIB_USE_BLAS", "?"), "AVX:", getattr(dlib, "USE_AVX_INSTRUCTIONS", "?"))
'
echo "$wanted" > "$stamp"
