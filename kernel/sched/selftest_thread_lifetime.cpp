// Selftests of thread lifetime (kernel/sched/thread.h): a Thread is freed
// exactly once, by whoever drops the last reference - the joiner or, for a
// detached thread, the reaper that drops the scheduler's reference after the
// exit. Counted with Thread::live_count() / destroyed_count() and the heap's
// bytes in use (stacks are recycled, not returned to the page allocator).
//
// Every wait is bounded: reclaiming goes through the system work queue, so
// a lost reference shows up as a count that never comes back, not a hang.

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/lib/string_view.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/work_queue.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint64_t reclaim_bound_ms = 2000;

// Waits until the reaper has dropped the scheduler's reference of every
// thread that has already exited: it is queued before the exit completes.
void settle() { WorkQueue::system().flush(); }

// Polls until `live` threads are alive (exits still running count too).
bool wait_for_live_count(uint64_t live)
{
    uint64_t deadline = uptime_ns() + reclaim_bound_ms * 1000000;
    for (;;) {
        settle();
        if (Thread::live_count() == live)
            return true;
        if (uptime_ns() >= deadline)
            return false;
        sleep_ms(2);
    }
}

struct Record {
    uint64_t id { 0 };
    kstd::atomic<bool> release { false };
    kstd::atomic<bool> done { false };
};

void record_id(void* argument)
{
    auto& record = *static_cast<Record*>(argument);
    record.id = current_thread().id();
}

void wait_for_release(void* argument)
{
    auto& record = *static_cast<Record*>(argument);
    uint64_t deadline = uptime_ns() + 5 * ns_per_second;
    while (!record.release.load(kstd::memory_order_acquire) && uptime_ns() < deadline)
        sleep_ms(1);
    record.done.store(true, kstd::memory_order_release);
}

void exit_at_once(void*) { }

// The reference kept after join() is the last one: the Thread stays
// readable, and dropping it destroys it exactly once.
void reference_after_join_keeps_thread()
{
    settle();
    uint64_t live = Thread::live_count();
    uint64_t destroyed = Thread::destroyed_count();
    Record record;
    RefPtr<Thread> thread = KMUST(Thread::try_create("lifetime-joined", record_id, &record));
    thread->join();
    settle();
    KEXPECT(thread->state() == Thread::State::Dead);
    KEXPECT_EQ(thread->ref_count(), 1u); // the scheduler's reference is gone
    KEXPECT_EQ(Thread::live_count(), live + 1);
    KEXPECT_EQ(Thread::destroyed_count(), destroyed);
    KEXPECT(StringView(thread->name()) == StringView("lifetime-joined"));
    KEXPECT_EQ(thread->id(), record.id);
    thread.clear();
    KEXPECT_EQ(Thread::destroyed_count(), destroyed + 1);
    KEXPECT_EQ(Thread::live_count(), live);
}

// While a thread can run, the scheduler holds its own reference.
void running_thread_has_scheduler_reference()
{
    Record record;
    RefPtr<Thread> thread = KMUST(Thread::try_create("lifetime-running", wait_for_release, &record));
    KEXPECT_EQ(thread->ref_count(), 2u);
    record.release.store(true, kstd::memory_order_release);
    thread->join();
}

// Fifty create + join + drop cycles leave the heap and the thread count as
// they were.
void joined_threads_are_freed()
{
    constexpr size_t count = 50;
    settle();
    uint64_t live = Thread::live_count();
    uint64_t destroyed = Thread::destroyed_count();
    size_t heap = kernel_heap_bytes_in_use();
    for (size_t i = 0; i < count; ++i) {
        RefPtr<Thread> thread = KMUST(Thread::try_create("lifetime-cycle", exit_at_once, nullptr));
        thread->join();
    }
    KEXPECT(wait_for_live_count(live));
    KEXPECT_EQ(Thread::destroyed_count(), destroyed + count);
    KEXPECT_EQ(kernel_heap_bytes_in_use(), heap);
}

// A thread whose creator dropped its reference at once lives until it exits,
// then the reaper frees it.
void detached_thread_is_reclaimed()
{
    settle();
    uint64_t live = Thread::live_count();
    size_t heap = kernel_heap_bytes_in_use();
    Record record;
    {
        auto thread = KMUST(Thread::try_create("lifetime-detached", wait_for_release, &record));
        (void)thread;
    }
    sleep_ms(10);
    KEXPECT(!record.done.load(kstd::memory_order_acquire));
    KEXPECT_EQ(Thread::live_count(), live + 1); // the scheduler keeps it
    record.release.store(true, kstd::memory_order_release);
    KEXPECT(wait_for_live_count(live));
    KEXPECT(record.done.load(kstd::memory_order_acquire));
    KEXPECT_EQ(kernel_heap_bytes_in_use(), heap);
}

// The scheduler's reference outlives the exiting thread's time on its CPU:
// with the exit stretched (interrupts off, after the hand-off to the
// reaper), the reaper on the other CPU must wait for the switch away.
void reaper_waits_for_the_switch_away()
{
    KSKIP_IF(arch::cpu_count() < 2, "only one CPU online");
    settle();
    Scheduler::set_exit_hold_for_test(5 * ns_per_second);
    RefPtr<Thread> thread = KMUST(
        Thread::try_create("lifetime-slow-exit", exit_at_once, nullptr, arch::current_cpu_index() == 0 ? 1 : 0));
    bool dropped_while_on_cpu = false;
    bool saw_exit_in_progress = false;
    // The exit is held on its CPU until we release it, so however long the
    // host deschedules this vCPU we see it; then we give the reaper 50 ms
    // of chances to drop the thread too early before letting it go.
    uint64_t deadline = uptime_ns() + 4 * ns_per_second;
    uint64_t release_at = 0;
    while (uptime_ns() < deadline) {
        // Order: on_cpu first, so a reference seen gone afterwards was
        // dropped while the thread was still on its CPU.
        bool dead = thread->state() == Thread::State::Dead;
        bool on_cpu = thread->m_on_cpu.load(kstd::memory_order_acquire);
        uint32_t references = thread->ref_count();
        if (dead && on_cpu) {
            if (!saw_exit_in_progress)
                release_at = uptime_ns() + 50 * 1000000;
            saw_exit_in_progress = true;
            if (references < 2)
                dropped_while_on_cpu = true;
            if (uptime_ns() >= release_at)
                Scheduler::set_exit_hold_for_test(0);
        }
        if (dead && !on_cpu)
            break;
        sleep_ms(1); // lets the reaper run on this CPU
    }
    Scheduler::set_exit_hold_for_test(0);
    thread->join();
    KEXPECT(saw_exit_in_progress);
    KEXPECT(!dropped_while_on_cpu);
    thread.clear();
}

struct Creator {
    int cpu { Thread::any_cpu };
    kstd::atomic<size_t> failures { 0 };
};

// Creates threads and drops them, joined and detached in turn, so exits,
// joins and reaping race across CPUs.
void create_and_drop(void* argument)
{
    constexpr size_t rounds = 40;
    auto& creator = *static_cast<Creator*>(argument);
    for (size_t i = 0; i < rounds; ++i) {
        auto thread
            = Thread::try_create("lifetime-churn", exit_at_once, nullptr, i % 3 == 0 ? creator.cpu : Thread::any_cpu);
        if (thread.is_error()) {
            creator.failures.fetch_add(1);
            continue;
        }
        if (i % 2 == 0)
            thread.value()->join();
    }
}

void threads_dropped_from_two_cpus()
{
    settle();
    uint64_t live = Thread::live_count();
    size_t heap = kernel_heap_bytes_in_use();
    bool two_cpus = arch::cpu_count() >= 2;
    Creator creators[2];
    RefPtr<Thread> threads[2];
    for (int i = 0; i < 2; ++i) {
        creators[i].cpu = two_cpus ? i : Thread::any_cpu;
        threads[i] = KMUST(Thread::try_create("lifetime-creator", create_and_drop, &creators[i], creators[i].cpu));
    }
    for (auto& thread : threads)
        thread->join();
    threads[0].clear();
    threads[1].clear();
    KEXPECT_EQ(creators[0].failures.load(), 0u);
    KEXPECT_EQ(creators[1].failures.load(), 0u);
    KEXPECT(wait_for_live_count(live));
    KEXPECT_EQ(kernel_heap_bytes_in_use(), heap);
}

} // namespace

SELFTEST_SUITE(sched_thread_lifetime, CONFIG_THREAD_LIFETIME_SELFTEST, SELFTEST_CASE(reference_after_join_keeps_thread),
    SELFTEST_CASE(running_thread_has_scheduler_reference), SELFTEST_CASE(joined_threads_are_freed),
    SELFTEST_CASE(detached_thread_is_reclaimed), SELFTEST_CASE(reaper_waits_for_the_switch_away),
    SELFTEST_CASE(threads_dropped_from_two_cpus));

} // namespace tessera
