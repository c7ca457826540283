#!/usr/bin/env bash
# Sets up the Windows stage on this Debian machine, under target/cross/ (see WINDOWS.md):
# - Debian packages: mingw-w64 and Wine, and the libraries Debian's own Rust toolchain needs;
# - Debian's rustc-web, cargo-web, rust-web-src and libstd-rust-web-*, downloaded and unpacked
#   into target/cross/toolchain, never installed, so rustup's cargo stays the default: this
#   toolchain has the std sources that -Zbuild-std needs for x86_64-pc-windows-gnu;
# - rsbegin.o and rsend.o for the target, when that Rust links with them and lacks them;
# - a Wine prefix with a stand-in bcryptprimitives.dll (tests/windows/bcryptprimitives.c).
# Idempotent: a second run checks and returns. Works from any state of apt's lists (none, old,
# fresh; see scripts/apt.sh).
# The version is apt's candidate of rustc-web, or DFUFLASH_WINDOWS_RUST when set: a version
# from `apt-cache madison rustc-web`, whole or its start (DFUFLASH_WINDOWS_RUST=1.85 takes
# bookworm's 1.85, =1.96 bookworm-security's), to rehearse the stage with another Rust.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
w="$root/target/cross"
mkdir -p "$w"
apt_who=setup-windows
# shellcheck source=scripts/apt.sh
source "$root/scripts/apt.sh"

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(mingw-w64)
command -v wine >/dev/null || need+=(wine64 wine)
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
    echo "setup-windows: installing ${need[*]} (Debian packages)"
    apt_install --no-install-recommends "${need[@]}"
fi

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
    echo "setup-windows: unpacking Debian's Rust $version into $tc"
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

# rsbegin.o and rsend.o: Debian's Rust 1.85 (not 1.96) links every Windows exe and dll between
# them (its target spec's pre- and post-link objects) and takes them from the target's lib dir
# in its sysroot, where Debian, shipping no std for the target, has none: "cannot find
# rsbegin.o". Built from the std sources the toolchain ships, as Rust's bootstrap builds them
# (StartupObjects in src/bootstrap/src/core/build_steps/compile.rs), where rustc looks.
t=x86_64-pc-windows-gnu
tlib="$tc/usr/lib/rustlib/$t/lib"
tc_rustc() { LD_LIBRARY_PATH="$tc/usr/lib/x86_64-linux-gnu" RUSTC_BOOTSTRAP=1 "$tc/usr/bin/rustc" "$@"; }
spec=$(tc_rustc -Z unstable-options --print target-spec-json --target "$t") ||
    apt_fail "a working rustc in $tc (it did not start)" "rm -rf $tc; scripts/setup-windows.sh"
for obj in $(grep -oE '"rs(begin|end)\.o"' <<<"$spec" | tr -d '"' | sort -u); do
    [ -s "$tlib/$obj" ] && continue
    src="$tc/usr/lib/rustlib/src/rust/library/rtstartup/${obj%.o}.rs"
    [ -f "$src" ] || apt_fail "$src, to build $obj (rust-web-src $version lacks it)" \
        "rm -rf $tc; scripts/setup-windows.sh"
    echo "setup-windows: building $obj for $t (Rust $version links with it; Debian ships none)"
    mkdir -p "$tlib"
    tc_rustc --target "$t" --emit=obj -o "$tlib/$obj" "$src"
done

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
