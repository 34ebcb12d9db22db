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
    Timer = 3, // the sleeping-thread list
    KernelStacks = 4, // kernel stack slots
    Heap = 5, // kernel heap
    PageTables = 6, // kernel page tables
    PageAllocator = 7, // physical page frames
    Scheduler = 8, // run queue and thread states
    Interrupts = 9, // IRQ routing
    PciConfig = 10, // the PCI configuration address/data port pair
    Console = 11, // serial console output
};

const char* lock_rank_name(LockRank rank);

} // namespace tessera
