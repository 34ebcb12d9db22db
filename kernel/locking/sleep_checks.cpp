#include <arch/cpu.h>
#include <kernel/console/panic.h>
#include <kernel/locking/lock_rank.h>
#include <kernel/locking/sleep_checks.h>

namespace tessera {

void verify_no_spinlock_held(const char* operation)
{
    uint32_t held = held_lock_ranks_on_this_cpu();
    if (held != 0) [[unlikely]]
        panic("%s while holding spinlock %s (held ranks %#x)", operation, highest_lock_rank_name(held), held);
}

void verify_may_sleep(const char* operation)
{
    verify_no_spinlock_held(operation);
    if (!arch::interrupts_enabled()) [[unlikely]]
        panic("%s with interrupts disabled", operation);
}

} // namespace tessera
