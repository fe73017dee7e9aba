#!/usr/bin/env bash
# Install fonts for the names drawn on the live stream (services/web/label_fonts.py): DejaVu, on most systems
# already, covers Latin, Greek, Cyrillic, Arabic and Hebrew; Noto adds the other scripts (Devanagari, Thai,
# Chinese, Japanese, Korean...). Run by `scripts/install.sh` (for `make run` and `make test`); as root with
# apt-get it installs the packages (about 130 MB, a few seconds), otherwise it says how, and names in those
# scripts are drawn as boxes. FONTS=skip leaves it alone.
set -euo pipefail

[ "${FONTS:-auto}" = skip ] && exit 0
command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=hi file)" ] && [ -n "$(fc-list :lang=zh-cn file)" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing fonts for names in every script (apt-get; FONTS=skip to do without)"
  packages=(fontconfig fonts-dejavu-core fonts-noto-core fonts-noto-cjk)
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1 ||
     { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null; }; then
    exit 0
  fi
  echo "could not install the fonts: names in some scripts will be drawn as boxes" >&2
else
  echo "note: names in scripts such as Devanagari or Chinese need fonts (sudo apt-get install fonts-noto-core fonts-noto-cjk)" >&2
fi
# CI demands every test run (.ci/run sets FACESTREAM_REQUIRE_ALL): missing fonts are a failure there, not a skip.
[ "${FACESTREAM_REQUIRE_ALL:-0}" = 0 ] || exit 1
