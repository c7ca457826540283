#!/usr/bin/env bash
# Sets up the Windows stage on this Debian machine, under target/cross/ (see WINDOWS.md):
# - Debian packages: mingw-w64 and Wine, and the libraries Debian's own Rust toolchain needs;
# - Debian's rustc-web, cargo-web, rust-web-src and libstd-rust-web-*, downloaded and unpacked
#   into target/cross/toolchain, never installed, so rustup's cargo stays the default: this
#   toolchain has the std sources that -Zbuild-std needs for x86_64-pc-windows-gnu;
# - a Wine prefix with a stand-in bcryptprimitives.dll (tests/windows/bcryptprimitives.c).
# Idempotent: a second run checks and returns. The version is apt's candidate, never pinned.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
w="$root/target/cross"
mkdir -p "$w"
sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive

apt_install() {
    $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 || {
        $sudo apt-get update -q >/dev/null
        $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null
    }
}

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(mingw-w64)
command -v wine >/dev/null || need+=(wine64 wine)
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
    echo "setup-windows: installing ${need[*]} (Debian packages)"
    apt_install "${need[@]}"
fi

# The toolchain: apt's candidate of rustc-web (a security update may move it).
version=$(apt-cache policy rustc-web | awk '/Candidate:/ {print $2}')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    $sudo apt-get update -q >/dev/null
    version=$(apt-cache policy rustc-web | awk '/Candidate:/ {print $2}')
fi
case "$version" in
    "" | "(none)") echo "setup-windows: apt offers no rustc-web" >&2; exit 1 ;;
esac
minor=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$version")
tc="$w/toolchain"
if [ "$(cat "$tc/version" 2>/dev/null)" != "$version" ]; then
    echo "setup-windows: unpacking Debian's Rust $version into $tc"
    rm -rf "$tc" "$w/debs"
    mkdir -p "$tc" "$w/debs"
    (cd "$w/debs" && apt-get download -q "rustc-web=$version" "cargo-web=$version" \
        "rust-web-src=$version" "libstd-rust-web-dev=$version" "libstd-rust-web-$minor=$version" \
        >/dev/null 2>&1)
    for deb in "$w"/debs/*.deb; do dpkg-deb -x "$deb" "$tc"; done
    # What the unpacked programs link against, from their own Depends (less the toolchain).
    deps=$(for deb in "$w"/debs/{rustc-web,cargo-web,libstd-rust-web-"$minor"}_*.deb; do
        dpkg-deb -f "$deb" Depends | tr ',' '\n'
    done | sed -E 's/\|.*//; s/\(.*\)//; s/ //g' | grep -v -e '-web' -e '^$' | sort -u)
    # shellcheck disable=SC2086
    apt_install $deps
    rm -rf "$w/debs"
    echo "$version" >"$tc/version"
fi

# The Wine prefix, with ProcessPrng where Rust's std looks for it.
export WINEPREFIX="$w/wine" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "setup-windows: creating the Wine prefix"
    wineboot -i >/dev/null 2>&1
    wineserver -w
fi
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$root/tests/windows/bcryptprimitives.c" -nt "$dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$root/tests/windows/bcryptprimitives.c" -lbcrypt
fi
echo "setup-windows: Rust $version for x86_64-pc-windows-gnu, mingw-w64, $(wine --version)"
