#pragma once
// The runner's side of selftest_start_thread(): after the case function has
// returned, wait for the case's helper threads and reclaim them.

#include <kernel/lib/kstd.h>
#include <kernel/selftest/case_context.h>

namespace tessera {

// Waits up to `grace_ms` for every helper of `context` to finish and joins
// those that did. Returns how many are still running (their records, and so
// the context, must then never be freed).
uint32_t selftest_reap_threads(SelftestCaseContext& context, uint64_t grace_ms);

} // namespace tessera
