#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/panic.h>
#include <kernel/locking/lock_rank.h>

namespace tessera {

const char* lock_rank_name(LockRank rank)
{
    switch (rank) {
    case LockRank::Selftest:
        return "Selftest";
    case LockRank::Rpc:
        return "Rpc";
    case LockRank::RdmaCm:
        return "RdmaCm";
    case LockRank::Rdma:
        return "Rdma";
    case LockRank::NetStack:
        return "NetStack";
    case LockRank::NetDevice:
        return "NetDevice";
    case LockRank::Mutex:
        return "Mutex";
    case LockRank::WaitQueue:
        return "WaitQueue";
    case LockRank::SleepQueue:
        return "SleepQueue";
    case LockRank::KernelStacks:
        return "KernelStacks";
    case LockRank::Heap:
        return "Heap";
    case LockRank::PageTables:
        return "PageTables";
    case LockRank::PageAllocator:
        return "PageAllocator";
    case LockRank::Timers:
        return "Timers";
    case LockRank::Scheduler:
        return "Scheduler";
    case LockRank::Interrupts:
        return "Interrupts";
    case LockRank::PciConfig:
        return "PciConfig";
    case LockRank::Console:
        return "Console";
    }
    return "?";
}

uint32_t held_lock_ranks_on_this_cpu()
{
    bool interrupts_were_enabled = arch::save_and_disable_interrupts();
    uint32_t held = arch::this_cpu_local().held_lock_ranks;
    arch::restore_interrupts(interrupts_were_enabled);
    return held;
}

const char* highest_lock_rank_name(uint32_t held)
{
    if (held == 0)
        return "none";
    return lock_rank_name(static_cast<LockRank>(31 - static_cast<unsigned>(__builtin_clz(held))));
}

// Called with interrupts disabled, so this CPU's rank set cannot change under us.
void lock_rank_acquire(LockRank rank)
{
    if constexpr (!CONFIG_LOCK_RANK_CHECKS)
        return;
    auto& held = arch::this_cpu_local().held_lock_ranks;
    uint32_t bit = 1u << static_cast<unsigned>(rank);
    if ((held & ~(bit - 1)) != 0) [[unlikely]] {
        if (rank != LockRank::Console)
            panic("lock order: taking %s while holding %s", lock_rank_name(rank), highest_lock_rank_name(held));
        // A panic while holding the console lock must still print: the panic
        // path uses its own lock-free output, so just note the nesting here.
    }
    held |= bit;
}

void lock_rank_release(LockRank rank)
{
    if constexpr (!CONFIG_LOCK_RANK_CHECKS)
        return;
    arch::this_cpu_local().held_lock_ranks &= ~(1u << static_cast<unsigned>(rank));
}

} // namespace tessera
