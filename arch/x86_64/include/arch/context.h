#pragma once
// Kernel thread contexts: the first frame of a new thread, the switch
// between two threads, and the stack the CPU enters the kernel on. The
// scheduler uses only these; the register layout stays in context_switch.S.

#include <kernel/lib/kstd.h>

extern "C" void context_switch(uint64_t* save_rsp, uint64_t load_rsp, kstd::atomic<bool>* old_on_cpu);

namespace tessera::arch {

using ThreadEntry = void (*)();

// Builds the initial frame just below `stack_top` (16-byte aligned) so that
// the first switch_context() into it calls `entry`, which must not return,
// with an ABI-aligned stack. Returns the stack pointer to switch to.
uint64_t prepare_initial_context(uint64_t stack_top, ThreadEntry entry);

// Saves the callee-saved registers and the stack pointer into *save_rsp,
// clears *old_on_cpu once they are saved (another CPU may then resume the
// old thread), and continues on the thread whose stack pointer is load_rsp.
inline void switch_context(uint64_t* save_rsp, uint64_t load_rsp, kstd::atomic<bool>* old_on_cpu)
{
    context_switch(save_rsp, load_rsp, old_on_cpu);
}

// The stack this CPU switches to when an interrupt or system call enters
// the kernel from user mode (the TSS's RSP0): the running thread's top.
void set_kernel_stack_top(uint64_t stack_top);

} // namespace tessera::arch
