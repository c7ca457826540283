#!/usr/bin/env bash
# Builds every Python wheel that can be built here into target/wheels/ and prints each path:
#   manylinux_2_17_x86_64  - rustup's toolchain, zig (cargo-zigbuild) linking against glibc 2.17
#   manylinux_2_17_aarch64 - Debian's Rust and its aarch64 std, unpacked by scripts/setup-arm.sh
#                            (rustup has no aarch64 std here), zig as above
#   win_amd64              - the Windows stage's DLL (scripts/test-windows.sh's build)
# libusb is compiled into each library (vendored-libusb), so a wheel needs only the system's C
# library. The Linux wheels get their manylinux tag from auditwheel, which refuses a library
# that needs more than the tag allows. Tools: scripts/setup-wheel-tools.sh. macOS: not built
# (no SDK here; see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out="$root/target/wheels"
bin=$(./scripts/setup-wheel-tools.sh)
# cargo zigbuild finds zig, and auditwheel patchelf, on PATH.
export PATH="$bin:$PATH"
./scripts/fetch-pip-wheels.sh
./scripts/setup-windows.sh >&2
./scripts/setup-arm.sh >&2
# zig's and cargo-zigbuild's caches (glibc 2.17 stubs, wrappers) stay under target/.
export XDG_CACHE_HOME="$root/target/wheel-cache"
# Linux libraries: the library alone, libusb compiled in, no command-line crates.
lib_features=(--no-default-features --features vendored-libusb)
rm -rf "$out"
mkdir -p "$out"

# manylinux LIBRARY ARCH: the wheel carrying LIBRARY, tagged by auditwheel.
manylinux() {
    local tmp plain
    tmp=$(mktemp -d)
    plain=$(./scripts/package.sh wheel "$1" "linux_$2" "$tmp")
    auditwheel repair --plat auto -w "$out" "$plain" >&2
    rm -rf "$tmp"
    ls "$out"/dfuflash-*-manylinux*_"$2".whl
}

echo "build-wheels: x86_64 (glibc 2.17)" >&2
cargo zigbuild --locked --release --lib "${lib_features[@]}" \
    --target x86_64-unknown-linux-gnu.2.17 >&2
manylinux target/x86_64-unknown-linux-gnu/release/libdfuflash.so x86_64

(
    # shellcheck source=scripts/cross-env.sh
    source scripts/cross-env.sh
    PATH="$bin:$PATH" # cross-env.sh sets PATH anew
    echo "build-wheels: aarch64 (glibc 2.17, Debian's std)" >&2
    cargo zigbuild --locked --release --lib "${lib_features[@]}" \
        --target aarch64-unknown-linux-gnu.2.17 >&2
    # The Windows stage's own build (same features), so the wheel carries the DLL it tested.
    echo "build-wheels: $WINDOWS_TARGET" >&2
    cargo build --locked --release -Zbuild-std --target "$WINDOWS_TARGET" --features vendored-libusb --lib >&2
)
manylinux target/cross/build/aarch64-unknown-linux-gnu/release/libdfuflash.so aarch64
./scripts/package.sh wheel target/cross/build/x86_64-pc-windows-gnu/release/dfuflash.dll win_amd64 "$out"
