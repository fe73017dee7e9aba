#!/usr/bin/env bash
# Install Debian's Mosquitto for the MQTT tests (tests/mosquitto.py): each test starts its own broker on a
# free loopback port, so the package's system service is not needed (and not enabled by us). Run by
# `scripts/install.sh --dev`; as root with apt-get it installs the package, otherwise it says how, and the
# MQTT tests skip. MOSQUITTO=skip leaves it alone.
set -euo pipefail

[ "${MOSQUITTO:-auto}" = skip ] && exit 0
command -v mosquitto >/dev/null 2>&1 && exit 0
[ -x /usr/sbin/mosquitto ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Mosquitto for the MQTT tests (apt-get; MOSQUITTO=skip to do without)"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null 2>&1 ||
     { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; }; then
    exit 0
  fi
  echo "could not install mosquitto: the MQTT tests will be skipped" >&2
else
  echo "note: no mosquitto; the MQTT tests will be skipped (sudo apt-get install mosquitto)" >&2
fi
# CI demands every test run (.ci/run sets FACESTREAM_REQUIRE_ALL): no broker is a failure there, not a skip.
[ "${FACESTREAM_REQUIRE_ALL:-0}" = 0 ] || exit 1
