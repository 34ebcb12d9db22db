#!/usr/bin/env bash
# make tidy: clang-tidy over the kernel sources with the kernel's flags.
# Exits non-zero if clang-tidy reports anything.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-std=c++20 -ffreestanding -fno-exceptions -fno-rtti -mno-red-zone -mcmodel=kernel
    -DTESSERA_KERNEL=1 -I. -Iarch/x86_64/include -Ibuild/include -include build/include/generated/autoconf.h)
status=0
mapfile -t files < <(git ls-files 'arch/*.cpp' 'kernel/*.cpp' 'drivers/*.cpp')
for file in "${files[@]}"; do
    if ! out=$(clang-tidy --quiet "$file" -- "${flags[@]}" 2>/dev/null); then status=1; fi
    if grep -q "warning:\|error:" <<<"$out"; then
        echo "$out"
        status=1
    fi
done
[ $status -eq 0 ] && echo "tidy: ${#files[@]} files clean"
exit $status
