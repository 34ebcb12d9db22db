#include <arch/cpu.h>
#include <kernel/console/panic.h>
#include <kernel/locking/selftest_inject_lock_checks.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/mutex.h>
#include <kernel/sched/scheduler.h>

namespace tessera {

void selftest_inject_mutex_under_spinlock()
{
    Spinlock<LockRank::Selftest> lock;
    Mutex mutex;
    {
        SpinlockGuard guard(lock);
        MutexGuard mutex_guard(mutex);
    }
    panic("inject: a mutex was taken under a spinlock and nothing stopped it");
}

void selftest_inject_schedule_under_spinlock()
{
    Spinlock<LockRank::Selftest> lock;
    {
        SpinlockGuard guard(lock);
        Scheduler::yield();
    }
    panic("inject: schedule() ran under a spinlock and nothing stopped it");
}

void selftest_inject_mutex_with_interrupts_disabled()
{
    Mutex mutex;
    arch::disable_interrupts();
    {
        MutexGuard mutex_guard(mutex);
    }
    panic("inject: a mutex was taken with interrupts disabled and nothing stopped it");
}

} // namespace tessera
