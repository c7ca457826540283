#!/usr/bin/env bash
# Sets up the Windows stage on this Debian machine, under target/cross/ (see WINDOWS.md):
# - Debian packages: mingw-w64 and Wine, and the libraries Debian's own Rust toolchain needs;
# - Debian's rustc-web, cargo-web, rust-web-src and libstd-rust-web-*, unpacked into
#   target/cross/toolchain by scripts/setup-rust-web.sh, never installed, so rustup's cargo
#   stays the default: this toolchain has the std sources that -Zbuild-std needs for
#   x86_64-pc-windows-gnu;
# - rsbegin.o and rsend.o for the target, when that Rust links with them and lacks them;
# - a Wine prefix with a stand-in bcryptprimitives.dll (tests/windows/bcryptprimitives.c).
# Idempotent: a second run checks and returns. Works from any state of apt's lists (none, old,
# fresh; see scripts/apt.sh).
# The Rust version: see scripts/setup-rust-web.sh (DFUFLASH_WINDOWS_RUST).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
w="$root/target/cross"
mkdir -p "$w"
apt_who=setup-windows
# shellcheck source=scripts/apt.sh
source "$root/scripts/apt.sh"

apt_needs x86_64-w64-mingw32-gcc mingw-w64
apt_needs wine wine64 wine
apt_needs zip zip
apt_needs unzip unzip
apt_install_needed

# Debian's Rust, unpacked into target/cross/toolchain (shared with the ARM stage).
version=$(apt_who=setup-windows "$root/scripts/setup-rust-web.sh")
tc="$w/toolchain"

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
