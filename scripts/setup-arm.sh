#!/usr/bin/env bash
# Sets up the Linux ARM stage (aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf):
# - Debian packages: the cross gcc and C libraries for both targets, user-mode QEMU, file;
# - Debian's Rust toolchain, unpacked into target/cross/toolchain by scripts/setup-rust-web.sh
#   (shared with the Windows stage), with Debian's own standard libraries for both targets
#   (libstd-rust-web-dev:arm64 and :armhf, the same version) unpacked beside it, so nothing is
#   built with -Zbuild-std;
# - the arm64 Python sysroot of scripts/setup-arm-python.sh (scripts/arm-python.sh).
# Idempotent; works from any state of apt's lists (scripts/apt.sh, scripts/apt-foreign.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
apt_who=setup-arm
# shellcheck source=scripts/apt.sh
source "$root/scripts/apt.sh"
# shellcheck source=scripts/apt-foreign.sh
source "$root/scripts/apt-foreign.sh"

apt_needs aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross
apt_needs arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
apt_needs qemu-aarch64 qemu-user
apt_needs qemu-arm qemu-user
apt_needs file file
apt_needs pkg-config pkg-config
apt_install_needed

version=$(apt_who=setup-arm "$root/scripts/setup-rust-web.sh")
tc="$root/target/cross/toolchain"
# The targets' std, of exactly the toolchain's version (rustc refuses any other); unpacking a
# new toolchain removes the stamp with the rest.
stamp="$tc/arm-std"
if [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
    debs="$root/target/arm/debs-std"
    rm -rf "$debs"
    foreign_download "$debs" "libstd-rust-web-dev:arm64=$version" "libstd-rust-web-dev:armhf=$version"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$tc"; done
    rm -rf "$debs"
    echo "$version" >"$stamp"
fi
for t in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    compgen -G "$tc/usr/lib/rustlib/$t/lib/libstd-*.rlib" >/dev/null ||
        apt_fail "Debian's std for $t in $tc" "rm -rf $tc; scripts/setup-arm.sh"
done

"$root/scripts/setup-arm-python.sh"
echo "setup-arm: Rust $version for aarch64 and armv7 (Debian's std), $(aarch64-linux-gnu-gcc -dumpversion)," \
    "$(qemu-aarch64 --version | head -1)"
