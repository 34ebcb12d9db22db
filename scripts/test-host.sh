#!/usr/bin/env bash
# The host test build, defined once: test/host/CMakeLists.txt configured into
# build/host, built, and run by ctest. `make test-host` and the host tier of
# `make check` (tools/check.py) both run this script; extra arguments go to
# ctest (e.g. `-R Heap`).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S test/host -B build/host -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/host -j"$jobs"
exec ctest --test-dir build/host -j"$jobs" --output-on-failure "$@"
