#!/usr/bin/env bash
# Builds the wheels (scripts/build-wheels.sh) and checks them as an index and a user would:
# - each Linux wheel: auditwheel finds it manylinux no newer than 2_17 and needing no external
#   library, and its file name claims no newer tag; it holds what scripts/package.sh checks;
# - x86_64: `pip install --no-index` into a new venv, then, from outside the source tree, the
#   package loads its own library, flashes and reads back a simulated board, and a panic
#   unwinds to the C ABI's catch (tests/wheels/flash_sim.py);
# - aarch64: the same with Debian's arm64 Python under qemu-aarch64 (scripts/arm-python.sh);
# - win_amd64: what it holds (the Windows stage runs that DLL under Wine).
# Ends with "wheels: N passed, M failed" and fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
exec </dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=wheels
# shellcheck source=scripts/stage-count.sh
source scripts/stage-count.sh
step "build (scripts/build-wheels.sh)"
./scripts/build-wheels.sh >"$tmp/wheels"
mapfile -t wheels <"$tmp/wheels"
bin=$(./scripts/setup-wheel-tools.sh)
# manylinux_ok WHEEL ARCH: auditwheel's own verdict, read from its JSON report.
manylinux_ok() {
    "$bin/auditwheel" show "$1" # the report, for the log
    "$bin/auditwheel" show --json "$1" | python3 "$root/tests/wheels/manylinux_ok.py" "$2"
}

# flash_from VENV_PYTHON...: tests/wheels/flash_sim.py run by that Python, outside the tree.
flash_from() {
    (cd "$tmp" && env -u DFUFLASH_LIBRARY -u PYTHONPATH RUST_BACKTRACE=0 "$@" - <"$root/tests/wheels/flash_sim.py")
}

step "auditwheel and contents"
for arch in x86_64 aarch64; do
    w=$(printf '%s\n' "${wheels[@]}" | grep -E "manylinux.*_$arch\.whl$" || true)
    if [ -z "$w" ]; then fail "no manylinux $arch wheel built"; continue; fi
    check "$arch: auditwheel" manylinux_ok "$w" "$arch"
    check "$arch: contents" ./scripts/package.sh check "$w"
done

step "a clean venv each, a simulated flash from outside the tree"
w=$(printf '%s\n' "${wheels[@]}" | grep -E 'manylinux.*_x86_64\.whl$' || true)
if [ -n "$w" ] && python3 -m venv "$tmp/venv-x86_64" &&
    "$tmp/venv-x86_64/bin/pip" install -q --disable-pip-version-check --no-index "$w"; then
    check "x86_64: installed in a clean venv, flashes a simulated board, contains a panic" flash_from "$tmp/venv-x86_64/bin/python"
else
    fail "x86_64: pip install into a clean venv"
fi

# Under emulation: a venv of the arm64 Python, its own pip installing the wheel (pip checks
# that the tag fits that interpreter), then the flash.
w=$(printf '%s\n' "${wheels[@]}" | grep -E 'manylinux.*_aarch64\.whl$' || true)
arm=("$root/scripts/arm-python.sh" --run "$tmp/venv-aarch64/bin/python")
if [ -n "$w" ] && "$root/scripts/arm-python.sh" --venv "$tmp/venv-aarch64" &&
    "${arm[@]}" -m pip install -q --disable-pip-version-check --no-index "$w"; then
    check "aarch64 (qemu): installed in a clean venv, flashes a simulated board, contains a panic" flash_from "${arm[@]}"
else
    fail "aarch64 (qemu): pip install into a clean venv"
fi

w=$(printf '%s\n' "${wheels[@]}" | grep -E -- '-win_amd64\.whl$' || true)
if [ -n "$w" ]; then check "win_amd64: contents" ./scripts/package.sh check "$w"; else fail "no win_amd64 wheel built"; fi
[ ${#wheels[@]} -eq 3 ] || fail "build-wheels.sh made ${#wheels[@]} wheels, not 3"
ls -l "${wheels[@]}"
echo "wheels: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
