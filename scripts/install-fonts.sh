#!/usr/bin/env bash
# Install fonts for the names drawn on the live stream (services/web/label_fonts.py): DejaVu, on most systems
# already, covers Latin, Greek, Cyrillic, Arabic and Hebrew; Noto adds the other scripts (Devanagari, Thai,
# Chinese, Japanese, Korean...). Run by `scripts/install.sh` (for `make run` and `make test`); as root with
# apt-get it installs the packages (about 130 MB, a few seconds), otherwise it says how, and names in those
# scripts are drawn as boxes. FONTS=skip leaves it alone.
set -euo pipefail

[ "${FONTS:-auto}" = skip ] && exit 0
command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=hi file)" ] && [ -n "$(fc-list :lang=zh-cn file)" ] && exit 0

# shellcheck source=scripts/apt-install.sh
source "$(dirname "$0")/apt-install.sh"
packages=(fontconfig fonts-dejavu-core fonts-noto-core fonts-noto-cjk)
apt_install_or_say "fonts for names in every script" "FONTS=skip" "${packages[@]}"
