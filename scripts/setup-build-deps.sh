#!/usr/bin/env bash
# Installs what building dfuflash needs besides the Rust toolchain: libusb's headers and
# pkg-config (rusb links the system libusb), from Debian's packages. A no-op when present.
set -euo pipefail
need=()
[ -f /usr/include/libusb-1.0/libusb.h ] || need+=(libusb-1.0-0-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v cc >/dev/null || need+=(gcc)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]} (Debian packages)" >&2
sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -q "${need[@]}" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null; $sudo apt-get install -y -q "${need[@]}" >/dev/null; }
