#!/usr/bin/env bash
# Make a Debian bookworm base image with Python 3.11 from Debian's own packages
# (debootstrap, then `docker import`), for machines that cannot pull
# python:3.11-slim-bookworm from a registry. Build facestream on it with
#   docker build --build-arg PYTHON_IMAGE=facestream-base:bookworm -t facestream .
#
# Does nothing when the image exists (--force makes it again). Needs root
# (debootstrap), docker and debootstrap (apt-get install docker.io debootstrap).
# MIRROR picks the Debian mirror, BASE_IMAGE the tag.
#
# The extra CA certificates this machine trusts (/usr/local/share/ca-certificates,
# where an administrator puts a company proxy's) go into the image too: the
# image build downloads from PyPI through the same network as this machine.
set -euo pipefail
BASE_IMAGE=${BASE_IMAGE:-facestream-base:bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
DOCKER=${DOCKER:-docker}
# python3-venv: the Dockerfile makes a venv and installs with its pip.
PACKAGES=python3,python3-venv,ca-certificates

if [ "${1:-}" != --force ] && "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "==> $BASE_IMAGE exists (--force to make it again)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "debootstrap needs root: run as root (sudo $0)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

root=$(mktemp -d /tmp/facestream-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
echo "==> debootstrap $SUITE ($PACKAGES) from $MIRROR into $root"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 ||
  { tail -n 30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# Security and point-release updates, for the image's own apt-get runs.
cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1 || { echo "update-ca-certificates failed in $root" >&2; exit 1; }
fi
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

echo "==> docker import $BASE_IMAGE"
tar --numeric-owner -C "$root" -c . |
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" >/dev/null
echo "==> $BASE_IMAGE made in $(($(date +%s) - start)) s, $("$DOCKER" image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
