#!/usr/bin/env bash
# Install dlib into $VENV, the fast way where the machine allows it.
#
# DLIB=auto (default): on x86-64 with AVX2 and FMA, dlib built from source
#   against OpenBLAS with -march=x86-64-v3 (encodes a face ~5x faster than the
#   dlib-bin wheel). The build takes ~9 minutes and is done once per machine:
#   the wheel is cached in ~/.cache/facestream/wheels and reused by every clone.
#   Elsewhere, or if the build fails, the dlib-bin wheel (no BLAS).
# DLIB=source: the build, and fail if it fails.  DLIB=bin: the dlib-bin wheel.
set -euo pipefail
VENV=${VENV:-.venv}
DLIB_VERSION=20.0.1
MODE=${DLIB:-auto}
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
PYTAG=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/facestream/wheels/dlib-$DLIB_VERSION-$PYTAG-openblas-x86-64-v3"

install_bin() {
  echo "==> installing dlib-bin (prebuilt dlib without BLAS: slower face encoding)"
  "${PIP[@]}" uninstall -q -y dlib >/dev/null 2>&1 || true
  "${PIP[@]}" install -q "dlib-bin==$DLIB_VERSION"
}

cpu_has_avx2() {
  [ "$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo
}

build_deps() {
  if ! ldconfig -p 2>/dev/null | grep -q libopenblas || ! command -v c++ >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "==> installing the build tools and OpenBLAS (apt-get)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        build-essential libopenblas-dev liblapack-dev >/dev/null
    else
      echo "==> OpenBLAS or a C++ compiler is missing; to build the fast dlib run:" >&2
      echo "      sudo apt-get install build-essential libopenblas-dev liblapack-dev" >&2
      return 1
    fi
  fi
}

build_wheel() {
  local log
  log=$(mktemp)
  echo "==> building dlib $DLIB_VERSION against OpenBLAS with AVX2: about 9 minutes, once per machine"
  echo "    (cached in $CACHE; build log: $log)"
  mkdir -p "$CACHE"
  if CXXFLAGS="-O3 -march=x86-64-v3" CFLAGS="-O3 -march=x86-64-v3" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
     "${PIP[@]}" wheel --no-deps -v "dlib==$DLIB_VERSION" -w "$CACHE" 2>&1 |
     tee "$log" | grep --line-buffered -oE '^ *\[ *[0-9]+%\]' | awk '{ if ($0 != last) { printf "\r    %s", $0; last = $0 } } END { print "" }'
  then
    grep -q "Found OpenBLAS\|Using OpenBLAS\|BLAS library" "$log" || echo "    warning: the build did not report OpenBLAS; see $log"
    ls "$CACHE"/dlib-*.whl >/dev/null 2>&1
  else
    return 1
  fi
}

install_source() {
  if ! ls "$CACHE"/dlib-*.whl >/dev/null 2>&1; then
    build_deps && build_wheel || return 1
  else
    echo "==> using the cached dlib build in $CACHE"
  fi
  "${PIP[@]}" uninstall -q -y dlib-bin >/dev/null 2>&1 || true
  "${PIP[@]}" install -q --no-deps "$CACHE"/dlib-*.whl
}

case "$MODE" in
  bin) install_bin ;;
  source) install_source ;;
  auto)
    if cpu_has_avx2; then
      install_source || { echo "==> the dlib build failed; falling back to dlib-bin" >&2; install_bin; }
    else
      echo "==> this CPU has no AVX2: using the dlib-bin wheel"
      install_bin
    fi ;;
  *) echo "DLIB must be auto, source or bin (got $MODE)" >&2; exit 2 ;;
esac
