#!/usr/bin/env bash
# Fetches Python wheels from PyPI into target/pip-wheels once, so that what installs from them
# runs offline with --no-index:
#   scripts/fetch-pip-wheels.sh               the bindings' build requirement (setuptools), for the
#                                             pip install test and scripts/package.sh's wheels
#   scripts/fetch-pip-wheels.sh REQUIREMENT...  those (pinned), with their dependencies
#                                             (scripts/setup-wheel-tools.sh's tools)
set -euo pipefail
wheels="$(dirname "$0")/../target/pip-wheels"
[ $# -gt 0 ] || set -- "setuptools>=70.1"
mkdir -p "$wheels"
python3 -m pip --version >/dev/null 2>&1 || {
    echo "fetch-pip-wheels: needs pip for python3 (to fetch $*); run: apt-get install python3-pip" >&2
    exit 1
}
get() { python3 -m pip download -q --disable-pip-version-check --only-binary=:all: --dest "$wheels" "$@"; }
# Already there (with every dependency) when pip finds them all in the folder alone.
get --no-index --find-links "$wheels" "$@" >/dev/null 2>&1 && exit 0
get --retries 5 "$@" || {
    echo "fetch-pip-wheels: needs $* from PyPI (pip download failed); run: python3 -m pip download --only-binary=:all: --dest target/pip-wheels $*" >&2
    exit 1
}
