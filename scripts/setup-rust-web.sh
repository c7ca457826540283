#!/usr/bin/env bash
# Unpacks Debian's own Rust toolchain (rustc-web, cargo-web, rust-web-src, libstd-rust-web-*)
# into target/cross/toolchain, never installed, so rustup's cargo stays the default. The cross
# stages build with it: it has the std sources -Zbuild-std needs (Windows), and its version
# matches Debian's multiarch standard libraries (ARM, scripts/setup-arm.sh). Installs the
# libraries the unpacked cargo and rustc link against. Prints the version (also kept in
# target/cross/toolchain/version). Idempotent; works from any state of apt's lists.
# The version is apt's candidate of rustc-web, or DFUFLASH_WINDOWS_RUST when set: a version
# from `apt-cache madison rustc-web`, whole or its start (DFUFLASH_WINDOWS_RUST=1.85 takes
# bookworm's 1.85, =1.96 bookworm-security's), to rehearse the stages with another Rust.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
w="$root/target/cross"
mkdir -p "$w"
apt_who=${apt_who:-setup-rust-web}
# shellcheck source=scripts/apt.sh
source "$root/scripts/apt.sh"

# The toolchain's version: the one asked for, or apt's candidate (a security update may move it).
want=${DFUFLASH_WINDOWS_RUST:-}
rust_version() {
    if [ -n "$want" ]; then
        apt-cache madison rustc-web 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
            awk -v w="$want" '$0 == w || index($0, w ".") == 1 || index($0, w "+") == 1 {print; exit}'
    else
        apt-cache policy rustc-web 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}'
    fi
}
apt_lists
version=$(rust_version)
if [ -z "$version" ]; then
    apt_update
    version=$(rust_version)
fi
[ -n "$version" ] || apt_fail "Debian's rustc-web ${want:-(any version)}, which apt does not list" \
    "apt-get update; apt-cache madison rustc-web (the versions DFUFLASH_WINDOWS_RUST can name)"
tc="$w/toolchain"
debs() { # VERSION: the packages of that toolchain
    local m
    m=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$1")
    echo "rustc-web=$1 cargo-web=$1 rust-web-src=$1 libstd-rust-web-dev=$1 libstd-rust-web-$m=$1"
}
fetch() { # VERSION: downloads its packages into $w/debs
    rm -rf "$w/debs"
    mkdir -p "$w/debs"
    # shellcheck disable=SC2046
    apt_download "$w/debs" $(debs "$1")
}
if [ "$(cat "$tc/version" 2>/dev/null)" != "$version" ] && ! fetch "$version"; then
    # Old lists name files the mirror has dropped; new ones may name another candidate.
    apt_update
    [ -n "$want" ] || version=$(rust_version)
    [ -n "$version" ] || apt_fail "Debian's rustc-web, which apt no longer lists" "apt-get update"
    if [ "$(cat "$tc/version" 2>/dev/null)" != "$version" ]; then
        fetch "$version" || apt_fail "Debian's rustc-web $version (apt-get download failed)" "apt-get update"
    fi
fi
if [ "$(cat "$tc/version" 2>/dev/null)" != "$version" ]; then
    echo "$apt_who: unpacking Debian's Rust $version into $tc" >&2
    rm -rf "$tc"
    mkdir -p "$tc"
    for deb in "$w"/debs/*.deb; do dpkg-deb -x "$deb" "$tc"; done
    # What the unpacked programs link against, from their own Depends (less the toolchain).
    deps=$(for deb in "$w"/debs/{rustc-web,cargo-web,libstd-rust-web-[0-9]}*.deb; do
        dpkg-deb -f "$deb" Depends | tr ',' '\n'
    done | sed -E 's/\|.*//; s/\(.*\)//; s/ //g' | grep -v -e '-web' -e '^$' | sort -u)
    # shellcheck disable=SC2086
    apt_install --no-install-recommends $deps
    rm -rf "$w/debs"
    echo "$version" >"$tc/version"
fi
echo "$version"
