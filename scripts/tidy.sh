#!/usr/bin/env bash
# make tidy: clang-tidy over the kernel's C++ sources, with the flags the
# build uses: they come from build/compile_commands.json (`make
# compile_commands`, written from the Makefile's KERNEL_CXXFLAGS), never a
# copy here. Exits non-zero if clang-tidy reports anything.
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
status=0
for file in "${files[@]}"; do
    if ! out=$(clang-tidy --quiet -p build "$file" 2>/dev/null); then status=1; fi
    if grep -q "warning:\|error:" <<<"$out"; then
        echo "$out"
        status=1
    fi
done
[ $status -eq 0 ] && echo "tidy: ${#files[@]} files clean"
exit $status
