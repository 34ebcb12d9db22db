// Selftests of the lock rules (kernel/locking/README.md): SpinlockGuardPair
// takes two same-rank locks in address order and records the rank once, so
// two CPUs locking the same pair in opposite argument order never deadlock;
// the same lock twice is taken once; code that may sleep sees no spinlock
// held and interrupts on; a mutex's owner reads right from other threads.
//
// The panicking checks (a mutex or schedule() under a spinlock) end the
// run, so they are not cases here: selftest_inject_lock_checks.cpp has the
// functions a fault-injection mode calls.

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/locking/lock_rank.h>
#include <kernel/locking/sleep_checks.h>
#include <kernel/locking/spinlock_guard_pair.h>
#include <kernel/sched/mutex.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

uint32_t rank_bit(LockRank rank) { return 1u << static_cast<unsigned>(rank); }

void guard_pair_holds_both_and_records_the_rank_once()
{
    Spinlock<LockRank::Selftest> a;
    Spinlock<LockRank::Selftest> b;
    uint32_t held_inside = 0;
    bool both_locked = false;
    bool interrupts_off = false;
    {
        SpinlockGuardPair guard(b, a);
        both_locked = a.is_locked() && b.is_locked();
        interrupts_off = !arch::interrupts_enabled();
        held_inside = arch::this_cpu_local().held_lock_ranks;
        // A lock of a higher rank nests inside the pair as usual.
        Spinlock<LockRank::Mutex> inner;
        SpinlockGuard inner_guard(inner);
    }
    KEXPECT(both_locked);
    KEXPECT(interrupts_off);
    if constexpr (CONFIG_LOCK_RANK_CHECKS)
        KEXPECT_EQ(held_inside, rank_bit(LockRank::Selftest));
    KEXPECT(!a.is_locked() && !b.is_locked());
    KEXPECT_EQ(held_lock_ranks_on_this_cpu(), 0u);
    KEXPECT(arch::interrupts_enabled());

    // One lock passed twice (a QP whose send and receive CQ are the same).
    bool locked_once = false;
    {
        SpinlockGuardPair guard(a, a);
        locked_once = a.is_locked();
    }
    KEXPECT(locked_once);
    KEXPECT(!a.is_locked());
    KEXPECT_EQ(held_lock_ranks_on_this_cpu(), 0u);
}

struct PairRun {
    Spinlock<LockRank::Selftest>* first;
    Spinlock<LockRank::Selftest>* second;
    uint64_t* shared; // protected by both locks
    uint32_t pinned_cpu;
    uint32_t ran_on { 0 };
    static constexpr uint32_t rounds = 20000;
};

// Takes (first, second) in the order given; the guard reorders them.
void lock_pair_many_times(void* argument)
{
    auto& run = *static_cast<PairRun*>(argument);
    run.ran_on = arch::current_cpu_index();
    for (uint32_t i = 0; i < PairRun::rounds; ++i) {
        SpinlockGuardPair guard(*run.first, *run.second);
        uint64_t value = *run.shared;
        arch::relax();
        *run.shared = value + 1;
    }
}

// Opposite argument orders on two CPUs: nested plain guards in argument
// order would deadlock (each CPU holding one lock, spinning on the other).
void guard_pair_opposite_orders_do_not_deadlock()
{
    Spinlock<LockRank::Selftest> a;
    Spinlock<LockRank::Selftest> b;
    uint64_t shared = 0;
    size_t cpus = arch::cpu_count();
    PairRun runs[2] = { { &a, &b, &shared, 0 }, { &b, &a, &shared, static_cast<uint32_t>(cpus - 1) } };
    RefPtr<Thread> threads[2];
    for (size_t i = 0; i < 2; ++i)
        threads[i]
            = KMUST(Thread::try_create("pair", lock_pair_many_times, &runs[i], static_cast<int>(runs[i].pinned_cpu)));
    for (auto& thread : threads)
        thread->join();
    KEXPECT_EQ(shared, 2ull * PairRun::rounds);
    KEXPECT_EQ(runs[0].ran_on, runs[0].pinned_cpu);
    KEXPECT_EQ(runs[1].ran_on, runs[1].pinned_cpu);
}

// Thread context, where sleeping is allowed, passes the checks that Mutex
// and schedule() run, also right after a spinlock was released.
void may_sleep_checks_pass_where_sleeping_is_allowed()
{
    verify_may_sleep("selftest");
    verify_no_spinlock_held("selftest");
    {
        Spinlock<LockRank::Selftest> lock;
        SpinlockGuard guard(lock);
        if constexpr (CONFIG_LOCK_RANK_CHECKS)
            KEXPECT(held_lock_ranks_on_this_cpu() != 0);
    }
    verify_may_sleep("selftest");
    Mutex mutex;
    {
        MutexGuard guard(mutex);
        sleep_ms(1); // schedule() with a mutex (not a spinlock) held
        KEXPECT(mutex.is_locked_by_current_thread());
    }
    KEXPECT(!mutex.is_locked_by_current_thread());
}

struct OwnerProbe {
    Mutex* mutex;
    bool saw_itself_as_owner { true };
};

// Another thread, reading the atomic owner while this one holds the mutex,
// sees that it is not the owner.
void mutex_owner_seen_from_another_thread()
{
    Mutex mutex;
    OwnerProbe probe { &mutex };
    MutexGuard guard(mutex);
    auto thread = KMUST(Thread::try_create(
        "owner-probe",
        [](void* argument) {
            auto& probe = *static_cast<OwnerProbe*>(argument);
            probe.saw_itself_as_owner = probe.mutex->is_locked_by_current_thread();
        },
        &probe));
    thread->join();
    KEXPECT(!probe.saw_itself_as_owner);
    KEXPECT(mutex.is_locked_by_current_thread());
}

} // namespace

SELFTEST_SUITE(locking_lock_checks, CONFIG_LOCK_CHECKS_SELFTEST,
    SELFTEST_CASE(guard_pair_holds_both_and_records_the_rank_once),
    SELFTEST_CASE(guard_pair_opposite_orders_do_not_deadlock),
    SELFTEST_CASE(may_sleep_checks_pass_where_sleeping_is_allowed),
    SELFTEST_CASE(mutex_owner_seen_from_another_thread));

} // namespace tessera
