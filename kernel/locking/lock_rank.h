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
    // The fabric, outermost first: an RPC endpoint calls into the CM and the
    // RDMA device, which transmit through the stack and then the driver.
    // All of them may allocate, arm timers and wake waiters, so they rank
    // below Mutex, WaitQueue, Heap and Timers.
    Rpc = 1, // an RPC endpoint's requests in flight
    RdmaCm = 2, // connection manager state (listeners, connections)
    Rdma = 3, // one RDMA device's QPs, CQs, MRs
    NetStack = 4, // an interface's ARP cache and pending frames
    NetDevice = 5, // one NIC's transmit ring
    Mutex = 6, // a mutex's own state
    WaitQueue = 7, // a wait queue's waiter list
    SleepQueue = 8, // the sleeping-thread list
    KernelStacks = 9, // kernel stack slots
    Heap = 10, // kernel heap
    PageTables = 11, // kernel page tables
    PageAllocator = 12, // physical page frames
    Timers = 13, // the timer wheel (armed from under most locks; takes none)
    Scheduler = 14, // run queue and thread states
    Interrupts = 15, // IRQ routing
    PciConfig = 16, // the PCI configuration address/data port pair
    Console = 17, // serial console output
};

const char* lock_rank_name(LockRank rank);

// The ranks this CPU holds, one bit per rank (0 with CONFIG_LOCK_RANK_CHECKS
// off). Interrupts are disabled for the read so the caller cannot move to
// another CPU between finding its CPU and reading the field.
uint32_t held_lock_ranks_on_this_cpu();
// The name of the highest rank in a non-empty `held` set.
const char* highest_lock_rank_name(uint32_t held);

} // namespace tessera
