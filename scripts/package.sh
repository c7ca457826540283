#!/usr/bin/env bash
# Makes the release archives in target/dist/ and prints each path, or checks one:
#   scripts/package.sh linux       dfuflash-VERSION-x86_64-unknown-linux-gnu.tar.gz: the library,
#                                  header, pkg-config and CMake files (scripts/install.sh), the
#                                  command and its dfu-util copy, the C++ header, the README
#                                  (its Python wheels are manylinux: scripts/build-wheels.sh)
#   scripts/package.sh wheel LIBRARY PLATFORM [DIR]
#                                  a py3-none-PLATFORM wheel carrying LIBRARY, into DIR (target/dist)
#                                  (scripts/build-wheels.sh makes the manylinux ones with it)
#   scripts/package.sh windows     dfuflash-VERSION-x86_64-pc-windows-gnu.zip from the Windows
#                                  build (scripts/test-windows.sh): dfuflash.exe, dfu-util.exe,
#                                  dfuflash.dll, its import library, libdfuflash.a, the headers,
#                                  the README's Windows section; then a py3-none-win_amd64 wheel
#   scripts/package.sh arm TARGET  dfuflash-VERSION-TARGET.tar.gz (aarch64-unknown-linux-gnu,
#                                  armv7-unknown-linux-gnueabihf) from the ARM stage's build
#                                  (scripts/test-arm.sh), laid out as the Linux one, libusb
#                                  compiled in; no wheel
#   scripts/package.sh check FILE  checks that FILE holds what it must (and a wheel's tag; and
#                                  that an ARM archive's programs are built for its target)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
dist="$root/target/dist"
mkdir -p "$dist"

# The README's Windows section, from its heading to the next section.
windows_readme() {
    awk '/^## Windows/ {on = 1} on && /^## / && !/^## Windows/ {exit} on' README.md
}

# A wheel carrying LIBRARY, tagged for PLATFORM, into DIR (the build requirement comes from
# target/pip-wheels, which scripts/setup-test-deps.sh fills, so this runs offline).
wheel() {
    local library=$1 platform=$2 out=${3:-$dist} tmp
    tmp=$(mktemp -d)
    cp -r bindings/python "$tmp/src"
    DFUFLASH_LIBRARY="$(realpath "$library")" python3 -m pip wheel -q --disable-pip-version-check --no-deps \
        --no-index --find-links target/pip-wheels -w "$tmp/out" \
        --config-settings="--build-option=--plat-name=$platform" "$tmp/src" >&2
    mkdir -p "$out"
    mv "$tmp"/out/dfuflash-*.whl "$out/"
    rm -rf "$tmp"
    echo "$out/dfuflash-$version-py3-none-$platform.whl"
}

linux() {
    local name="dfuflash-$version-x86_64-unknown-linux-gnu" stage
    stage=$(mktemp -d)
    DFUFLASH_RELOCATABLE=1 ./scripts/install.sh "$stage/$name" >&2
    ./scripts/install-dfu-util.sh "$stage/$name/bin" >&2
    cp target/release/dfuflash "$stage/$name/bin/"
    cp bindings/cpp/dfuflash.hpp "$stage/$name/include/"
    cp README.md "$stage/$name/"
    tar -C "$stage" -czf "$dist/$name.tar.gz" "$name"
    rm -rf "$stage"
    echo "$dist/$name.tar.gz"
}

arm() {
    local t=$1 name="dfuflash-$version-$1" stage
    local out="$root/target/arm/build/$t/release"
    [ -f "$out/dfuflash" ] || {
        echo "package.sh: no $t build in $out; run scripts/test-arm.sh first" >&2
        exit 1
    }
    stage=$(mktemp -d)
    # With the stage's toolchain and features, install.sh rebuilds nothing.
    # shellcheck disable=SC2016 # for the inner shell
    bash -c 'source scripts/arm-env.sh && exec "$@"' arm-env env CARGO_BUILD_TARGET="$t" \
        DFUFLASH_LIB_FEATURES="--features vendored-libusb" DFUFLASH_RELOCATABLE=1 ./scripts/install.sh "$stage/$name" >&2
    mkdir -p "$stage/$name/bin"
    cp "$out/dfuflash" "$stage/$name/bin/"
    cp "$out/dfuflash" "$stage/$name/bin/dfu-util"
    cp bindings/cpp/dfuflash.hpp "$stage/$name/include/"
    cp README.md "$stage/$name/"
    tar -C "$stage" -czf "$dist/$name.tar.gz" "$name"
    rm -rf "$stage"
    echo "$dist/$name.tar.gz"
}

windows() {
    local name="dfuflash-$version-x86_64-pc-windows-gnu" stage
    local out="$root/target/cross/build/x86_64-pc-windows-gnu/release"
    [ -f "$out/dfuflash.dll" ] || {
        echo "package.sh: no Windows build in $out; run scripts/test-windows.sh first" >&2
        exit 1
    }
    stage=$(mktemp -d)
    mkdir -p "$stage/$name/bin" "$stage/$name/lib" "$stage/$name/include"
    cp "$out/dfuflash.exe" "$out/dfuflash.dll" "$stage/$name/bin/"
    cp "$out/dfuflash.exe" "$stage/$name/bin/dfu-util.exe"
    cp "$out/libdfuflash.dll.a" "$out/libdfuflash.a" "$stage/$name/lib/"
    cp include/dfuflash.h bindings/cpp/dfuflash.hpp "$stage/$name/include/"
    windows_readme >"$stage/$name/README-windows.md"
    rm -f "$dist/$name.zip"
    (cd "$stage" && zip -qr "$dist/$name.zip" "$name")
    rm -rf "$stage"
    echo "$dist/$name.zip"
    wheel "$out/dfuflash.dll" win_amd64
}

# machine_check ARCHIVE NAME: the archive's program and shared library are built for the
# machine its name says (an ARM archive holding an x86-64 build, say, is refused).
machine_check() {
    local want tmp f bad=0
    case $2 in
    *-x86_64-unknown-linux-gnu) want="x86-64" ;;
    *-aarch64-unknown-linux-gnu) want="ARM aarch64" ;;
    *-armv7-unknown-linux-gnueabihf) want="ARM, EABI5" ;;
    *) echo "check: $1: no machine known for $2" >&2; return 1 ;;
    esac
    tmp=$(mktemp -d)
    tar -C "$tmp" -xzf "$1" "$2/bin/dfuflash" "$2/lib/libdfuflash.so"
    for f in bin/dfuflash lib/libdfuflash.so; do
        file -L "$tmp/$2/$f" | grep -qF "$want" || { echo "check: $1: $f is not built for $want" >&2; bad=1; }
    done
    rm -rf "$tmp"
    return $bad
}

# check FILE: every path it must hold is there (and a wheel is tagged for its platform).
check() {
    local file=$1 listing want=() missing=0
    case $file in
    *.zip)
        listing=$(unzip -Z1 "$file")
        local n="dfuflash-$version-x86_64-pc-windows-gnu"
        want=("$n/bin/dfuflash.exe" "$n/bin/dfu-util.exe" "$n/bin/dfuflash.dll" "$n/lib/libdfuflash.dll.a"
            "$n/lib/libdfuflash.a" "$n/include/dfuflash.h" "$n/include/dfuflash.hpp" "$n/README-windows.md")
        unzip -p "$file" "$n/README-windows.md" | grep -q "LoadLibrary" || {
            echo "check: README-windows.md lacks the LoadLibrary advice" >&2
            missing=1
        }
        ;;
    *.tar.gz)
        listing=$(tar -tzf "$file")
        local n
        n=$(basename "$file" .tar.gz)
        want=("$n/bin/dfuflash" "$n/bin/dfu-util" "$n/lib/libdfuflash.so" "$n/lib/libdfuflash.a"
            "$n/include/dfuflash.h" "$n/include/dfuflash.hpp" "$n/lib/pkgconfig/dfuflash.pc"
            "$n/lib/cmake/dfuflash/dfuflashConfig.cmake" "$n/README.md")
        machine_check "$file" "$n" || missing=1
        ;;
    *-py3-none-win_amd64.whl | *-py3-none-manylinux*_x86_64.whl | *-py3-none-manylinux*_aarch64.whl)
        listing=$(unzip -Z1 "$file")
        local lib=dfuflash/libdfuflash.so
        [[ $file == *win_amd64.whl ]] && lib=dfuflash/dfuflash.dll
        want=(dfuflash/__init__.py dfuflash/_native.py dfuflash/errors.py dfuflash/records.py "$lib")
        unzip -p "$file" "dfuflash-$version.dist-info/WHEEL" | grep -q "^Root-Is-Purelib: false" || {
            echo "check: $file says it is pure Python" >&2
            missing=1
        }
        ;;
    *-linux_*.whl)
        echo "check: $file is tagged linux_*, which the Python package index refuses; scripts/build-wheels.sh makes manylinux wheels" >&2
        return 1
        ;;
    *.whl)
        echo "check: $file is not tagged for a platform (manylinux_*_x86_64 or _aarch64, or win_amd64)" >&2
        return 1
        ;;
    *) echo "check: what is $file?" >&2; return 1 ;;
    esac
    for p in "${want[@]}"; do
        grep -qxF "$p" <<<"$listing" || { echo "check: $file lacks $p" >&2; missing=1; }
    done
    [ $missing -eq 0 ] && echo "check: $file holds ${#want[@]} required entries"
}

case ${1:-} in
wheel) wheel "${2:?usage: scripts/package.sh wheel LIBRARY PLATFORM [DIR]}" "${3:?usage: scripts/package.sh wheel LIBRARY PLATFORM [DIR]}" "${4:-$dist}" ;;
linux) linux ;;
windows) windows ;;
arm) arm "${2:?usage: scripts/package.sh arm TARGET}" ;;
check) check "${2:?usage: scripts/package.sh check FILE}" ;;
*) echo "usage: scripts/package.sh linux | windows | arm TARGET | check FILE" >&2; exit 64 ;;
esac
