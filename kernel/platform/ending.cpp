#include <kernel/platform/ending.h>

namespace tessera {

namespace {

constexpr uint32_t state_running = 0;
constexpr uint32_t state_exiting = 1;
constexpr uint32_t state_exited = 2;
constexpr uint32_t state_panicking = 0x100; // | cpu index

// Sequentially consistent: the exit's final compare-exchange and a panic's
// claim are ordered against each other, so exactly one of them succeeds
// first and the other sees it.
constinit kstd::atomic<uint32_t> s_state { state_running };

} // namespace

PanicClaim ending_claim_panic(uint32_t cpu_index)
{
    uint32_t state = s_state.load();
    for (;;) {
        if (state >= state_panicking)
            return (state & 0xff) == (cpu_index & 0xff) ? PanicClaim::Nested : PanicClaim::Other;
        // From Running, Exiting or even Exited: report it. After Exited the
        // success exit is already on its way to the device; the panic may
        // still get its lines out first.
        if (s_state.compare_exchange_weak(state, state_panicking | (cpu_index & 0xff)))
            return PanicClaim::First;
    }
}

bool ending_panic_in_progress() { return s_state.load() >= state_panicking; }

bool ending_panicking_cpu(uint32_t& cpu_index)
{
    uint32_t state = s_state.load();
    if (state < state_panicking)
        return false;
    cpu_index = state & 0xff;
    return true;
}

bool ending_claim_exit()
{
    uint32_t expected = state_running;
    return s_state.compare_exchange_strong(expected, state_exiting);
}

bool ending_commit_exit()
{
    uint32_t expected = state_exiting;
    return s_state.compare_exchange_strong(expected, state_exited);
}

} // namespace tessera
