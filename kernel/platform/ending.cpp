#include <kernel/platform/ending.h>

namespace tessera {

namespace {

constinit EndingState s_ending;

} // namespace

PanicClaim ending_claim_panic(uint32_t cpu_index) { return s_ending.claim_panic(cpu_index); }
bool ending_panic_in_progress() { return s_ending.panic_in_progress(); }
bool ending_panicking_cpu(uint32_t& cpu_index) { return s_ending.panicking_cpu(cpu_index); }
bool ending_claim_exit() { return s_ending.claim_exit(); }
bool ending_commit_exit() { return s_ending.commit_exit(); }

} // namespace tessera
