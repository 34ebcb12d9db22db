#!/usr/bin/env bash
# `make bench`: boot-to-ready time of Tessera against Debian's Linux kernel
# (tools/bench/README.md). Usage: scripts/bench.sh [ISO] [boot_bench.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
iso="${1:-build/tessera.iso}"
shift || true
exec python3 tools/bench/boot_bench.py --iso "$iso" "$@"
