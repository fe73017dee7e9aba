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

# shellcheck source=scripts/apt-install.sh
source "$(dirname "$0")/apt-install.sh"
apt_install_or_say "Chromium for the browser tests" "BROWSER=skip" chromium
