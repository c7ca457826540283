#!/usr/bin/env bash
# Runs Debian's arm64 Python 3.11 under user-mode QEMU (set up by scripts/setup-arm-python.sh
# on first use), for testing aarch64 builds, wheels and the ctypes bindings on this x86_64
# machine:
#   scripts/arm-python.sh ARGS...             python3.11 ARGS... (e.g. -m venv DIR, -c CODE)
#   scripts/arm-python.sh --run PROGRAM ARGS  another aarch64 program, e.g. DIR/bin/python of a
#                                             venv made as above (its pip, its site-packages)
#   scripts/arm-python.sh --venv DIR          a venv with pip in DIR (then: --run DIR/bin/python
#                                             -m pip install --no-index WHEEL)
#   scripts/arm-python.sh --print             the command line, for callers that exec it
# There is no binfmt_misc here, so an aarch64 program cannot start another one: `-m venv`
# (whose ensurepip runs the new python as a child) fails with "Exec format error", hence
# --venv, and pip must install wheels only (a source build runs its backend as a child).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup-arm-python.sh"
sysroot="$root/target/arm/sysroot-aarch64"
qemu=(qemu-aarch64 -L "$sysroot")
case ${1:-} in
--print) echo "${qemu[*]} $sysroot/usr/bin/python3.11" ;;
--venv)
    # Without ensurepip's child process: pip installs itself from Debian's pip wheel.
    "${qemu[@]}" "$sysroot/usr/bin/python3.11" -m venv --without-pip "${2:?usage: --venv DIR}"
    pip_whl=$(echo "$sysroot"/usr/share/python-wheels/pip-*.whl)
    exec "${qemu[@]}" "$2/bin/python" "$pip_whl/pip" install -q --no-index "$pip_whl"
    ;;
--run)
    shift
    exec "${qemu[@]}" "$@"
    ;;
*) exec "${qemu[@]}" "$sysroot/usr/bin/python3.11" "$@" ;;
esac
