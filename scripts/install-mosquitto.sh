#!/usr/bin/env bash
# Install Debian's Mosquitto for the MQTT tests (tests/mosquitto.py): each test starts its own broker on a
# free loopback port, so the package's system service is not needed (and not enabled by us). Run by
# `scripts/install.sh --dev`; as root with apt-get it installs the package, otherwise it says how, and the
# MQTT tests skip. MOSQUITTO=skip leaves it alone.
set -euo pipefail

[ "${MOSQUITTO:-auto}" = skip ] && exit 0
command -v mosquitto >/dev/null 2>&1 && exit 0
[ -x /usr/sbin/mosquitto ] && exit 0

# shellcheck source=scripts/apt-install.sh
source "$(dirname "$0")/apt-install.sh"
apt_install_or_say "Mosquitto for the MQTT tests" "MOSQUITTO=skip" mosquitto
