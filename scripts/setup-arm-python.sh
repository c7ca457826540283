#!/usr/bin/env bash
# An arm64 Python 3.11 to run under user-mode QEMU (qemu-aarch64): Debian's arm64 packages of
# Python and of the libraries it loads, downloaded and unpacked with dpkg-deb -x into
# target/arm/sysroot-aarch64, never installed. With python3.11-venv and the pip and setuptools
# wheels, `python3.11 -m venv` works there too. scripts/arm-python.sh runs it. Idempotent: the
# sysroot is made again only when missing or when this script changes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
apt_who=setup-arm-python
# shellcheck source=scripts/apt.sh
source "$root/scripts/apt.sh"
# shellcheck source=scripts/apt-foreign.sh
source "$root/scripts/apt-foreign.sh"
sysroot="$root/target/arm/sysroot-aarch64"
stamp="$sysroot/.made-by"
# What python3.11 and its extension modules link against (their Depends), ctypes' libffi among
# them, and libgcc_s, which glibc loads when a thread ends and which Rust libraries link.
pkgs=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11 python3.11-venv
    python3-pip-whl python3-setuptools-whl media-types libc6 libgcc-s1 zlib1g libexpat1 libffi8
    libbz2-1.0 liblzma5 libcrypt1 libuuid1 libssl3 libsqlite3-0 libncursesw6 libtinfo6
    libreadline8)
command -v qemu-aarch64 >/dev/null || apt_install --no-install-recommends qemu-user
if [ -x "$sysroot/usr/bin/python3.11" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$(sha256sum <"$0")" ]; then
    exit 0
fi
debs="$root/target/arm/debs-python"
rm -rf "$debs" "$sysroot"
# arm64 is the private apt's own architecture: no suffix needed.
foreign_download "$debs" "${pkgs[@]}"
mkdir -p "$sysroot"
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
version=$(dpkg-deb -f "$debs"/python3.11-minimal_*.deb Version)
rm -rf "$debs"
sha256sum <"$0" >"$stamp"
echo "setup-arm-python: Debian's arm64 Python $version in $sysroot"
