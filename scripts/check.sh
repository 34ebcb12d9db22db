#!/usr/bin/env bash
# make check: runs every tier through tools/check.py (see its docstring).
# The last line is "N passed, N failed[, N skipped]"; non-zero exit on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 tools/check.py "$@"
