#include <arch/context.h>
#include <kernel/lib/assert.h>

extern "C" void thread_trampoline();

namespace tessera::arch {

uint64_t prepare_initial_context(uint64_t stack_top, ThreadEntry entry)
{
    VERIFY((stack_top & 15) == 0);
    // Popped by context_switch: r15 r14 r13 r12 rbx rbp, then the return
    // address. thread_trampoline calls the entry held in rbx; after the
    // return rsp is stack_top, so the call leaves it ABI-aligned.
    auto* frame = reinterpret_cast<uint64_t*>(stack_top - 7 * sizeof(uint64_t));
    for (size_t i = 0; i < 6; ++i)
        frame[i] = 0;
    frame[4] = reinterpret_cast<uint64_t>(entry);
    frame[6] = reinterpret_cast<uint64_t>(thread_trampoline);
    return reinterpret_cast<uint64_t>(frame);
}

} // namespace tessera::arch
