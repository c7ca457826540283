#!/usr/bin/env bash
# Fetches the Python bindings' build requirement (setuptools, from PyPI) into target/pip-wheels
# once, so that building or installing the bindings (the pip install test, the wheels of
# scripts/package.sh) runs offline with --no-index.
set -euo pipefail
wheels="$(dirname "$0")/../target/pip-wheels"
if ! ls "$wheels"/setuptools-*.whl >/dev/null 2>&1; then
    mkdir -p "$wheels"
    python3 -m pip --version >/dev/null 2>&1 || {
        echo "fetch-pip-wheels: needs pip for python3 (to fetch setuptools); run: apt-get install python3-pip" >&2
        exit 1
    }
    python3 -m pip download -q --disable-pip-version-check --retries 5 --only-binary=:all: \
        --dest "$wheels" "setuptools>=70.1" || {
        echo "fetch-pip-wheels: needs setuptools>=70.1 from PyPI (pip download failed); run: python3 -m pip download --only-binary=:all: --dest target/pip-wheels 'setuptools>=70.1'" >&2
        exit 1
    }
fi
