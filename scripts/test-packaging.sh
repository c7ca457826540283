#!/usr/bin/env bash
# Installs the library into a scratch prefix and builds the C example out of the source tree
# four ways (pkg-config shared and static, CMake shared and static); each build flashes a
# simulated STM32H7 Rev V and must report the Rev V recovery.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
./scripts/install.sh "$tmp/prefix" >/dev/null
cp -r examples/c "$tmp/src"
head -c 300000 /dev/urandom >"$tmp/fw.bin"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
passed=0
failed=0
check() { # NAME EXECUTABLE
    local out
    if out=$("$2" flash --sim stm32h743-revv --address 0x080c0000 "$tmp/fw.bin" 2>"$tmp/err") &&
        grep -q "recovery used for: 0x08100000" <<<"$out" && grep -q "300000 bytes verified" <<<"$out"; then
        echo "packaging $1: ok"; passed=$((passed + 1))
    else
        echo "packaging $1: FAILED"; echo "$out"; tail -c 1500 "$tmp/err"; failed=$((failed + 1))
    fi
}
# grep -q would stop reading early: ldd then dies of SIGPIPE, and pipefail fails the check.
shared_linked() { ldd "$1" | grep libdfuflash >/dev/null; }

make -s -C "$tmp/src" dfuflash-example >/dev/null && shared_linked "$tmp/src/dfuflash-example" && check "pkg-config shared" "$tmp/src/dfuflash-example" || { echo "packaging pkg-config shared: build FAILED"; failed=$((failed + 1)); }
make -s -C "$tmp/src" clean >/dev/null
make -s -C "$tmp/src" STATIC=1 dfuflash-example >/dev/null && ! shared_linked "$tmp/src/dfuflash-example" && check "pkg-config static" "$tmp/src/dfuflash-example" || { echo "packaging pkg-config static: build FAILED"; failed=$((failed + 1)); }
for kind in shared static; do
    flag=OFF; [ $kind = static ] && flag=ON
    if cmake -S "$tmp/src" -B "$tmp/build-$kind" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DDFUFLASH_STATIC=$flag >/dev/null &&
        cmake --build "$tmp/build-$kind" >/dev/null; then
        check "cmake $kind" "$tmp/build-$kind/dfuflash-example"
    else
        echo "packaging cmake $kind: build FAILED"; failed=$((failed + 1))
    fi
done
# The dfu-util drop-in, installed under that name, flashes a board the environment attaches.
if ./scripts/install-dfu-util.sh "$tmp/ide-bundle" >/dev/null &&
    out=$(cd "$tmp" && DFUFLASH_SIM=stm32h743-revv "$tmp/ide-bundle/dfu-util" -a 0 -d 0483:df11 -s 0x080c0000:leave -D "$tmp/fw.bin" 2>"$tmp/err") &&
    grep -q "^dfu-util 0.11$" <<<"$out" && grep -q "File downloaded successfully" <<<"$out"; then
    echo "packaging dfu-util drop-in: ok"; passed=$((passed + 1))
else
    echo "packaging dfu-util drop-in: FAILED"; echo "${out:-}"; tail -c 1500 "$tmp/err"; failed=$((failed + 1))
fi
# The release archive, checked for what it must hold (the wheels: scripts/test-wheels.sh).
mapfile -t made < <(./scripts/package.sh linux 2>/dev/null)
for f in "${made[@]}"; do
    if ./scripts/package.sh check "$f"; then
        echo "packaging $(basename "$f"): ok"; passed=$((passed + 1))
    else
        echo "packaging $(basename "$f"): FAILED"; failed=$((failed + 1))
    fi
done
[ ${#made[@]} -eq 1 ] || { echo "packaging: package.sh linux made ${#made[@]} files, not 1"; failed=$((failed + 1)); }
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
