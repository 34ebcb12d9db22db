#include <kernel/locking/spinlock.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/sleep_queue.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

// Sorted by deadline, earliest first.
SpinlockProtected<IntrusiveList<Thread, &Thread::m_sleep_node>, LockRank::Timer> s_sleepers;

} // namespace

void SleepQueue::sleep_until(uint64_t deadline_ns)
{
    Thread& self = current_thread();
    while (uptime_ns() < deadline_ns) {
        s_sleepers.with([&](auto& sleepers) {
            self.m_wake_deadline_ns = deadline_ns;
            Thread* position = sleepers.first();
            while (position != nullptr && position->m_wake_deadline_ns <= deadline_ns)
                position = sleepers.next_of(*position);
            if (position != nullptr)
                sleepers.insert_before(*position, self);
            else
                sleepers.append(self);
            Scheduler::block_current();
        });
        Scheduler::schedule();
    }
}

void SleepQueue::wake_expired()
{
    uint64_t now = uptime_ns();
    s_sleepers.with([&](auto& sleepers) {
        while (Thread* first = sleepers.first()) {
            if (first->m_wake_deadline_ns > now)
                break;
            sleepers.remove(*first);
            Scheduler::wake(*first);
        }
    });
}

void sleep_ns(uint64_t ns) { SleepQueue::sleep_until(uptime_ns() + ns); }

} // namespace tessera
