#!/usr/bin/env bash
# make tidy: clang-tidy over the kernel's C++ sources, with the flags the
# build uses: they come from build/compile_commands.json (`make
# compile_commands`, written from the Makefile's KERNEL_CXXFLAGS), never a
# copy here. One clang-tidy per CPU. Exits non-zero if clang-tidy reports
# anything.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory -s compile_commands >/dev/null
mapfile -t files < <(python3 -c '
import json
for entry in json.load(open("build/compile_commands.json")):
    if entry["file"].endswith(".cpp"):
        print(entry["file"])')
if [ ${#files[@]} -eq 0 ]; then
    echo "tidy: build/compile_commands.json lists no C++ source"
    exit 1
fi
# Each worker prints what clang-tidy said about a file only if it found
# something, and exits 1 then; xargs exits non-zero if any worker did.
tidy_one() {
    local out status=0
    out=$(clang-tidy --quiet -p build "$1" 2>/dev/null) || status=1
    if [ $status -ne 0 ] || grep -q "warning:\|error:" <<<"$out"; then
        printf '%s\n' "$out"
        return 1
    fi
}
export -f tidy_one
if printf '%s\0' "${files[@]}" | xargs -0 -n1 -P"$(nproc)" bash -c 'tidy_one "$1"' _; then
    echo "tidy: ${#files[@]} files clean"
else
    exit 1
fi
