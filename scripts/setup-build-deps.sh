#!/usr/bin/env bash
# Installs what building dfuflash needs besides the Rust toolchain: libusb's headers and
# pkg-config (rusb links the system libusb), from Debian's packages. A no-op when present.
# Works from any state of apt's lists (scripts/apt.sh).
set -euo pipefail
need=()
[ -f /usr/include/libusb-1.0/libusb.h ] || need+=(libusb-1.0-0-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v cc >/dev/null || need+=(gcc)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]} (Debian packages)" >&2
apt_who=setup-build-deps
# shellcheck source=scripts/apt.sh
source "$(dirname "$0")/apt.sh"
apt_install "${need[@]}"
