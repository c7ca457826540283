#!/usr/bin/env bash
# Installs what the tests use besides the Rust toolchain, from Debian's packages:
#   dfu-util  - dfuse-pack, dfu-suffix (independent producers and checkers of DFU files)
#   binutils  - objcopy, ld (independent producers of Intel HEX, S-record and ELF files)
#   python3   - dfuse-pack is a Python script
#   setuptools - the Python bindings' build requirement (PyPI), for the pip install test
#   gcc, valgrind - the C API tests (compiled with -Wall -Wextra -Werror, run under
#                   AddressSanitizer/UndefinedBehaviorSanitizer and valgrind)
# Works from any state of apt's lists (scripts/apt.sh).
set -euo pipefail
"$(dirname "$0")/setup-build-deps.sh"
need=()
command -v cc >/dev/null || need+=(gcc)
command -v valgrind >/dev/null || need+=(valgrind)
# packaging: an out-of-tree CMake project and a pkg-config/make build of the C example
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v make >/dev/null || need+=(make)
# the Qt 6 example (built and driven headless by scripts/test-qt.sh)
[ -f /usr/lib/x86_64-linux-gnu/cmake/Qt6Widgets/Qt6WidgetsConfig.cmake ] || [ -n "$(ls /usr/lib/*/cmake/Qt6Widgets/Qt6WidgetsConfig.cmake 2>/dev/null)" ] || need+=(qt6-base-dev qt6-base-dev-tools libgl-dev)
command -v dfuse-pack >/dev/null && command -v dfu-suffix >/dev/null || need+=(dfu-util)
command -v objcopy >/dev/null && command -v ld >/dev/null || need+=(binutils)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (Debian packages)"
    apt_who=setup-test-deps
    # shellcheck source=scripts/apt.sh
    source "$(dirname "$0")/apt.sh"
    apt_install "${need[@]}"
fi
# The bindings' build requirement, fetched once so the pip install test runs offline.
"$(dirname "$0")/fetch-pip-wheels.sh"
