#!/usr/bin/env bash
# Builds and runs the RoCE receive-path fuzzer (test/fuzz/roce_receive_fuzz.cpp)
# with clang's libFuzzer + ASan + UBSan.
#   scripts/fuzz-roce.sh [seconds]            fuzz; exit 0 when nothing was found
#   scripts/fuzz-roce.sh --planted [seconds]  build with the planted bounds bug
#                                             and succeed only if the fuzzer finds it
set -euo pipefail
cd "$(dirname "$0")/.."
planted=0
if [[ "${1:-}" == "--planted" ]]; then
    planted=1
    shift
fi
seconds="${1:-20}"
out=build/fuzz
mkdir -p "$out"
name=roce_receive_fuzz
[[ $planted == 1 ]] && name=roce_receive_fuzz_planted
sources=(test/fuzz/roce_receive_fuzz.cpp net/rdma/lib/*.cpp net/inet/lib/*.cpp kernel/lib/error.cpp
    test/host/support/host_support.cpp)
clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DTESSERA_FUZZ_PLANTED_BUG=$planted -I. -Iarch/x86_64/include -Itest/host/support \
    "${sources[@]}" -o "$out/$name"
corpus="$out/corpus-$name"
rm -rf "$corpus"
python3 test/fuzz/make_seeds.py "$corpus"
log="$out/$name.log"
set +e
# -rss_limit/-timeout keep a runaway input from hanging the tier.
"$out/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/$name-" "$corpus" >"$log" 2>&1
status=$?
set -e
grep -E "^#[0-9]+.*(DONE|pulse)|^stat::number_of_executed_units|SUMMARY:" "$log" | tail -3 || true
if [[ $planted == 1 ]]; then
    if [[ $status != 0 ]] && grep -q "ERROR: AddressSanitizer" "$log"; then
        echo "fuzz-roce planted: the fuzzer found the planted bounds bug (as it must)"
        exit 0
    fi
    echo "fuzz-roce planted: FAILED to find the planted bug in ${seconds}s (log $log)"
    exit 1
fi
if [[ $status != 0 ]]; then
    echo "fuzz-roce: the fuzzer found a crash (log $log, artifacts $out/$name-*)"
    exit 1
fi
echo "fuzz-roce: ${seconds}s, no crash"
