#include <kernel/platform/lib/ending_state.h>

namespace tessera {

PanicClaim EndingState::claim_panic(uint32_t cpu_index)
{
    uint32_t state = m_state.load();
    for (;;) {
        if (state >= panicking)
            return (state & 0xff) == (cpu_index & 0xff) ? PanicClaim::Nested : PanicClaim::Other;
        // From Running, Exiting or even Exited: report it. After Exited the
        // success exit is already on its way to the device; the panic may
        // still get its lines out first.
        if (m_state.compare_exchange_weak(state, panicking | (cpu_index & 0xff)))
            return PanicClaim::First;
    }
}

bool EndingState::panicking_cpu(uint32_t& cpu_index) const
{
    uint32_t state = m_state.load();
    if (state < panicking)
        return false;
    cpu_index = state & 0xff;
    return true;
}

bool EndingState::claim_exit()
{
    uint32_t expected = running;
    return m_state.compare_exchange_strong(expected, exiting);
}

bool EndingState::commit_exit()
{
    uint32_t expected = exiting;
    return m_state.compare_exchange_strong(expected, exited);
}

} // namespace tessera
