#pragma once
// Every spinlock has a rank from day one. A CPU may take a lock only if its
// rank is above every rank it already holds, so lock order is checked at
// run time (CONFIG_LOCK_RANK_CHECKS) rather than discovered as a deadlock.
// Lower ranks are taken first (outer); the console is innermost because
// anything may print.

#include <kernel/lib/kstd.h>

namespace tessera {

enum class LockRank : uint8_t {
    Selftest = 0, // data private to a selftest case
    Mutex = 1, // a mutex's own state
    WaitQueue = 2, // a wait queue's waiter list
    SleepQueue = 3, // the sleeping-thread list
    KernelStacks = 4, // kernel stack slots
    Heap = 5, // kernel heap
    PageTables = 6, // kernel page tables
    PageAllocator = 7, // physical page frames
    Timers = 8, // the timer wheel (armed from under most locks; takes none)
    Scheduler = 9, // run queue and thread states
    Interrupts = 10, // IRQ routing
    PciConfig = 11, // the PCI configuration address/data port pair
    Console = 12, // serial console output
};

const char* lock_rank_name(LockRank rank);

// The ranks this CPU holds, one bit per rank (0 with CONFIG_LOCK_RANK_CHECKS
// off). Interrupts are disabled for the read so the caller cannot move to
// another CPU between finding its CPU and reading the field.
uint32_t held_lock_ranks_on_this_cpu();
// The name of the highest rank in a non-empty `held` set.
const char* highest_lock_rank_name(uint32_t held);

} // namespace tessera
