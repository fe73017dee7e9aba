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

# shellcheck source=scripts/apt-install.sh
source "$(dirname "$0")/apt-install.sh"
apt_install_or_say "PostgreSQL for the PostgreSQL tests" "POSTGRESQL=skip" postgresql
