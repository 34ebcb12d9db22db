// Selftests of the kernel's locks: spinlock guards and the interrupt flag,
// SpinlockProtected under real contention from several CPUs, Mutex and
// MutexProtected with holders that sleep, and nesting in rank order.
//
// The rank checker's panic on a wrong order is not exercised: a panic ends
// the run. Locks of other ranks created here are private instances, never
// the subsystem locks of that rank.

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/locking/spinlock.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/sched/mutex.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

uint32_t rank_bit(LockRank rank) { return 1u << static_cast<unsigned>(rank); }

// This CPU's held-rank set, read with interrupts off so that the thread
// cannot move to another CPU between finding the CPU and reading it.
uint32_t held_ranks()
{
    bool enabled = arch::save_and_disable_interrupts();
    uint32_t held = arch::this_cpu_local().held_lock_ranks;
    arch::restore_interrupts(enabled);
    return held;
}

void spinlock_guard_with_interrupts_enabled()
{
    Spinlock<LockRank::Selftest> lock;
    KEXPECT(arch::interrupts_enabled());
    KEXPECT(!lock.is_locked());
    {
        SpinlockGuard guard(lock);
        KEXPECT(!arch::interrupts_enabled());
        KEXPECT(lock.is_locked());
        if constexpr (CONFIG_LOCK_RANK_CHECKS)
            KEXPECT((arch::this_cpu_local().held_lock_ranks & rank_bit(LockRank::Selftest)) != 0);
    }
    KEXPECT(arch::interrupts_enabled());
    KEXPECT(!lock.is_locked());
    KEXPECT_EQ(held_ranks() & rank_bit(LockRank::Selftest), 0u);

    // SpinlockProtected::with() goes through the same guard.
    SpinlockProtected<int, LockRank::Selftest> value(5);
    bool disabled_inside = value.with([&](int& v) {
        v += 1;
        return !arch::interrupts_enabled() && value.is_locked();
    });
    KEXPECT(disabled_inside);
    KEXPECT(arch::interrupts_enabled());
    KEXPECT_EQ(value.with([](int& v) { return v; }), 6);
}

// Entered with interrupts off, a guard must leave them off, also when an
// inner guard is released while an outer one is still held.
void spinlock_guard_with_interrupts_disabled()
{
    Spinlock<LockRank::Selftest> outer;
    Spinlock<LockRank::Mutex> inner;
    arch::disable_interrupts();
    bool off_inside = false;
    bool off_between = false;
    bool off_after_inner = false;
    bool both_locked = false;
    {
        SpinlockGuard outer_guard(outer);
        off_inside = !arch::interrupts_enabled();
        {
            SpinlockGuard inner_guard(inner);
            both_locked = outer.is_locked() && inner.is_locked();
        }
        off_after_inner = !arch::interrupts_enabled() && !inner.is_locked() && outer.is_locked();
    }
    off_between = !arch::interrupts_enabled();
    arch::enable_interrupts();
    KEXPECT(off_inside);
    KEXPECT(both_locked);
    KEXPECT(off_after_inner);
    KEXPECT(off_between);
    KEXPECT(!outer.is_locked());
}

struct Counter {
    uint64_t value { 0 };
    uint32_t inside { 0 };
    bool overlapped { false };
};

struct CounterRun {
    SpinlockProtected<Counter, LockRank::Selftest>* counter;
    uint32_t pinned_cpu;
    uint32_t ran_on;
    static constexpr uint32_t increments = 10000;
};

// A read-modify-write with a pause in the middle: without mutual exclusion
// other CPUs' increments are lost in that window.
void increment_many(void* argument)
{
    auto& run = *static_cast<CounterRun*>(argument);
    run.ran_on = arch::current_cpu_index();
    for (uint32_t i = 0; i < CounterRun::increments; ++i) {
        run.counter->with([](Counter& counter) {
            if (counter.inside++ != 0)
                counter.overlapped = true;
            uint64_t value = counter.value;
            arch::relax();
            counter.value = value + 1;
            --counter.inside;
        });
    }
}

void spinlock_protected_counter_across_cpus()
{
    size_t cpus = arch::cpu_count();
    constexpr size_t max_threads = 8;
    size_t thread_count = cpus * 2 < 4 ? 4 : (cpus * 2 > max_threads ? max_threads : cpus * 2);
    SpinlockProtected<Counter, LockRank::Selftest> counter;
    CounterRun runs[max_threads] {};
    RefPtr<Thread> threads[max_threads];
    size_t created = 0;
    for (size_t i = 0; i < thread_count; ++i) {
        runs[i] = { &counter, static_cast<uint32_t>(i % cpus), 0 };
        auto thread = Thread::try_create("counter", increment_many, &runs[i], static_cast<int>(i % cpus));
        KEXPECT(!thread.is_error());
        if (!thread.is_error())
            threads[created++] = thread.value();
    }
    for (size_t i = 0; i < created; ++i)
        threads[i]->join();
    console_print("    # %zu threads on %zu CPUs\n", created, cpus);
    Counter result = counter.with([](Counter& c) { return c; });
    KEXPECT_EQ(result.value, static_cast<uint64_t>(created) * CounterRun::increments);
    KEXPECT(!result.overlapped);
    KEXPECT_EQ(result.inside, 0u);
    for (size_t i = 0; i < created; ++i)
        KEXPECT_EQ(runs[i].ran_on, runs[i].pinned_cpu);
}

struct Room {
    uint32_t inside { 0 };
    uint32_t most_inside { 0 };
    uint32_t entries { 0 };
    bool owner_seen_holding { true };
};

struct Visitor {
    MutexProtected<Room>* room;
    static constexpr uint32_t visits = 3;
};

// Holds the mutex across a sleep, so others queue on it meanwhile.
void visit_room(void* argument)
{
    auto& visitor = *static_cast<Visitor*>(argument);
    for (uint32_t i = 0; i < Visitor::visits; ++i) {
        visitor.room->with([](Room& room) {
            ++room.inside;
            if (room.inside > room.most_inside)
                room.most_inside = room.inside;
            sleep_ms(1);
            --room.inside;
            ++room.entries;
        });
        if (i % 2 == 0)
            Scheduler::yield();
    }
}

void mutex_protected_exclusion_while_sleeping()
{
    constexpr size_t count = 4;
    MutexProtected<Room> room;
    Visitor visitors[count] {};
    RefPtr<Thread> threads[count];
    size_t created = 0;
    for (size_t i = 0; i < count; ++i) {
        visitors[i].room = &room;
        auto thread = Thread::try_create("visitor", visit_room, &visitors[i]);
        KEXPECT(!thread.is_error());
        if (!thread.is_error())
            threads[created++] = thread.value();
    }
    for (size_t i = 0; i < created; ++i)
        threads[i]->join();
    Room result = room.with([](Room& r) { return r; });
    KEXPECT_EQ(result.most_inside, 1u);
    KEXPECT_EQ(result.inside, 0u);
    KEXPECT_EQ(result.entries, static_cast<uint32_t>(created * Visitor::visits));
}

struct Contender {
    Mutex* mutex;
    kstd::atomic<bool> started { false };
    kstd::atomic<bool> acquired { false };
    uint64_t acquired_ns { 0 };
    bool owned_inside { false };
};

void contend(void* argument)
{
    auto& contender = *static_cast<Contender*>(argument);
    contender.started.store(true);
    MutexGuard guard(*contender.mutex);
    contender.acquired_ns = uptime_ns();
    contender.owned_inside = contender.mutex->is_locked_by_current_thread();
    contender.acquired.store(true);
}

// A second thread blocks on a held Mutex and gets it only after release.
void mutex_guard_blocks_until_release()
{
    Mutex mutex;
    Contender contender;
    contender.mutex = &mutex;
    KEXPECT(!mutex.is_locked_by_current_thread());
    RefPtr<Thread> thread;
    uint64_t released_ns = 0;
    {
        MutexGuard guard(mutex);
        KEXPECT(mutex.is_locked_by_current_thread());
        thread = KMUST(Thread::try_create("contender", contend, &contender));
        uint64_t deadline = uptime_ns() + ns_per_second;
        while (!contender.started.load() && uptime_ns() < deadline)
            sleep_ms(1);
        // Give it time to reach the mutex and block on it.
        sleep_ms(20);
        KEXPECT(!contender.acquired.load());
        released_ns = uptime_ns();
    }
    KEXPECT(!mutex.is_locked_by_current_thread());
    thread->join();
    KEXPECT(contender.acquired.load());
    KEXPECT(contender.owned_inside);
    KEXPECT(contender.acquired_ns >= released_ns);
}

// Taking locks in increasing rank order nests freely; each rank bit is set
// while held and cleared on release. Real subsystem locks of higher rank
// (heap, page allocator, console) may be taken under a Selftest lock.
void nested_ranks_in_increasing_order()
{
    Spinlock<LockRank::Selftest> selftest;
    Spinlock<LockRank::WaitQueue> wait_queue;
    Spinlock<LockRank::Heap> heap;
    Spinlock<LockRank::Scheduler> scheduler;
    Spinlock<LockRank::Interrupts> interrupts;
    uint32_t all = rank_bit(LockRank::Selftest) | rank_bit(LockRank::WaitQueue) | rank_bit(LockRank::Heap)
        | rank_bit(LockRank::Scheduler) | rank_bit(LockRank::Interrupts);
    uint32_t held_innermost = 0;
    uint32_t held_after_two_released = 0;
    {
        SpinlockGuard g1(selftest);
        SpinlockGuard g2(wait_queue);
        {
            SpinlockGuard g3(heap);
            SpinlockGuard g4(scheduler);
            SpinlockGuard g5(interrupts);
            held_innermost = arch::this_cpu_local().held_lock_ranks;
        }
        held_after_two_released = arch::this_cpu_local().held_lock_ranks;
    }
    if constexpr (CONFIG_LOCK_RANK_CHECKS) {
        KEXPECT_EQ(held_innermost & all, all);
        KEXPECT_EQ(held_after_two_released & all, rank_bit(LockRank::Selftest) | rank_bit(LockRank::WaitQueue));
    }
    KEXPECT_EQ(held_ranks() & all, 0u);

    SpinlockProtected<void*, LockRank::Selftest> slot(nullptr);
    slot.with([](void*& pointer) {
        pointer = kmalloc(6000); // heap, then page allocator
        console_print("    # printed under a Selftest-rank lock\n");
    });
    void* pointer = slot.with([](void*& p) { return kstd::exchange(p, nullptr); });
    KEXPECT(pointer != nullptr);
    kfree(pointer);
    KEXPECT(arch::interrupts_enabled());
}

} // namespace

SELFTEST_SUITE(locking_locks, CONFIG_LOCK_SELFTEST, SELFTEST_CASE(spinlock_guard_with_interrupts_enabled),
    SELFTEST_CASE(spinlock_guard_with_interrupts_disabled), SELFTEST_CASE(spinlock_protected_counter_across_cpus),
    SELFTEST_CASE(mutex_protected_exclusion_while_sleeping), SELFTEST_CASE(mutex_guard_blocks_until_release),
    SELFTEST_CASE(nested_ranks_in_increasing_order));

} // namespace tessera
