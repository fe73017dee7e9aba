#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser.py).
# Playwright's own browser download needs internet access beyond the package registries, so
# the test drives /usr/bin/chromium instead. Run by `scripts/install.sh --dev`; as root with
# apt-get it installs the package, otherwise it says how, and the browser test skips.
# BROWSER=skip leaves Chromium alone.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ "${BROWSER:-auto}" = skip ] && exit 0
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Chromium for the browser test (apt-get; BROWSER=skip to do without)"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
     { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    exit 0
  fi
  echo "could not install chromium: the browser tests will be skipped" >&2
else
  echo "note: no $CHROMIUM; the browser tests will be skipped (sudo apt-get install chromium)" >&2
fi
# CI demands every test run (.ci/run sets FACESTREAM_REQUIRE_ALL): no browser is a failure there, not a skip.
[ "${FACESTREAM_REQUIRE_ALL:-0}" = 0 ] || exit 1
