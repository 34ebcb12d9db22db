#include <kernel/locking/spinlock.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/sleep_queue.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

using Sleepers = IntrusiveList<Thread, &Thread::m_sleep_node>;

// Sorted by deadline, earliest first. Protects every thread's m_sleep_node
// and m_wake_deadline_ns.
SpinlockProtected<Sleepers, LockRank::SleepQueue> s_sleepers;

void insert_sorted(Sleepers& sleepers, Thread& thread, uint64_t deadline_ns)
{
    if (thread.m_sleep_node.is_linked())
        sleepers.remove(thread);
    thread.m_wake_deadline_ns = deadline_ns;
    Thread* position = sleepers.first();
    while (position != nullptr && position->m_wake_deadline_ns <= deadline_ns)
        position = sleepers.next_of(*position);
    if (position != nullptr)
        sleepers.insert_before(*position, thread);
    else
        sleepers.append(thread);
}

} // namespace

void SleepQueue::sleep_until(uint64_t deadline_ns)
{
    Thread& self = current_thread();
    while (uptime_ns() < deadline_ns) {
        s_sleepers.with([&](Sleepers& sleepers) {
            insert_sorted(sleepers, self, deadline_ns);
            Scheduler::block_current();
        });
        Scheduler::schedule();
    }
    remove(self);
}

void SleepQueue::add(Thread& thread, uint64_t deadline_ns)
{
    s_sleepers.with([&](Sleepers& sleepers) { insert_sorted(sleepers, thread, deadline_ns); });
}

void SleepQueue::remove(Thread& thread)
{
    s_sleepers.with([&](Sleepers& sleepers) {
        if (thread.m_sleep_node.is_linked())
            sleepers.remove(thread);
    });
}

void SleepQueue::wake_expired()
{
    uint64_t now = uptime_ns();
    s_sleepers.with([&](Sleepers& sleepers) {
        while (Thread* first = sleepers.first()) {
            if (first->m_wake_deadline_ns > now)
                break;
            sleepers.remove(*first);
            Scheduler::wake(*first);
        }
    });
}

void sleep_ns(uint64_t ns) { SleepQueue::sleep_until(deadline_after_ns(ns)); }

} // namespace tessera
