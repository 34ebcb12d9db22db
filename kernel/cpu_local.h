#pragma once
// Per-CPU state that generic code owns (scheduler, lock-order checks).
// Each architecture embeds one CpuLocal in its own per-CPU block and hands
// it out through arch::this_cpu_local() / arch::cpu_local_at(); what the
// hardware needs (descriptor tables, APIC id) stays in the arch part.

#include <kernel/lib/kstd.h>

namespace tessera {

class Thread;

struct CpuLocal {
    uint32_t index;
    // Read with one instruction by arch::current_thread_pointer().
    Thread* current_thread;
    Thread* idle_thread;
    // Ranks of the spinlocks this CPU holds (bit per rank), for order checks.
    uint32_t held_lock_ranks;
    bool need_reschedule;
    kstd::atomic<bool> online;
    uint64_t timer_ticks;
    // Interrupt handlers this CPU is running (kernel/irq); nonzero while
    // current_thread is only the thread they interrupted.
    uint32_t irq_depth;
};

} // namespace tessera
