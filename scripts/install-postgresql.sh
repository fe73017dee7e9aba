#!/usr/bin/env bash
# Install Debian's PostgreSQL for the sightings tests on PostgreSQL (tests/postgres.py): each test module makes
# and starts its own server on a free loopback port in a temporary folder, so the package's own cluster is not
# used. Run by
# `scripts/install.sh --dev`; as root with apt-get it installs the package, otherwise it says how, and the
# PostgreSQL tests skip. POSTGRESQL=skip leaves it alone.
set -euo pipefail

[ "${POSTGRESQL:-auto}" = skip ] && exit 0
command -v initdb >/dev/null 2>&1 && exit 0
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing PostgreSQL for the PostgreSQL tests (apt-get; POSTGRESQL=skip to do without)"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 ||
     { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
    exit 0
  fi
  echo "could not install postgresql: the PostgreSQL tests will be skipped" >&2
else
  echo "note: no PostgreSQL; the PostgreSQL tests will be skipped (sudo apt-get install postgresql)" >&2
fi
# CI demands every test run (.ci/run sets FACESTREAM_REQUIRE_ALL): no PostgreSQL is a failure there, not a skip.
[ "${FACESTREAM_REQUIRE_ALL:-0}" = 0 ] || exit 1
