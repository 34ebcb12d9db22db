#pragma once
// Threads waiting for a condition. The condition is evaluated under the
// queue's lock, and wakers change what it reads and then wake under the
// same lock, so a wake-up can never be lost between check and sleep.

#include <kernel/lib/error_or.h>
#include <kernel/lib/intrusive_list.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/sleep_queue.h>
#include <kernel/sched/thread.h>
#include <kernel/time/clock.h>

namespace tessera {

class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    // Blocks until `condition()` (called with the queue lock held) is true.
    template<typename Condition>
    void wait_until(Condition condition)
    {
        for (;;) {
            {
                SpinlockGuard guard(m_lock);
                if (condition())
                    return;
                Thread& self = current_thread();
                if (!self.m_wait_node.is_linked())
                    m_waiters.append(self);
                Scheduler::block_current();
            }
            Scheduler::schedule();
        }
    }

    // As wait_until(), but gives up at `deadline_ns` (uptime) with ETIMEDOUT.
    // A condition that is true wins over an expired deadline: it is checked
    // first, under the queue lock, after every wake-up. So a wake-up that
    // races the timeout is never lost: if the waker changed the condition
    // before the waiter took the lock, the waiter returns success; if after,
    // the waiter was already off the queue and the waker wakes another.
    // Each wait leaves the queue (and the sleep queue) exactly once, on
    // return, whoever woke it. Resolution is the scheduler tick.
    template<typename Condition>
    ErrorOr<void> wait_until_deadline(Condition condition, uint64_t deadline_ns)
    {
        Thread& self = current_thread();
        for (;;) {
            {
                SpinlockGuard guard(m_lock);
                bool satisfied = condition();
                if (satisfied || uptime_ns() >= deadline_ns) {
                    if (self.m_wait_node.is_linked())
                        m_waiters.remove(self);
                    // Under the queue lock, so no waker of this queue can
                    // wake this thread after it has left the queue.
                    SleepQueue::remove(self);
                    if (satisfied)
                        return {};
                    return Error(Errno::TIMEDOUT, "wait timed out");
                }
                if (!self.m_wait_node.is_linked())
                    m_waiters.append(self);
                SleepQueue::add(self, deadline_ns);
                Scheduler::block_current();
            }
            Scheduler::schedule();
        }
    }
    template<typename Condition>
    ErrorOr<void> wait_until_for(Condition condition, uint64_t timeout_ns)
    {
        return wait_until_deadline(condition, deadline_after_ns(timeout_ns));
    }

    // Runs `change()` under the queue lock, then wakes every waiter.
    template<typename Change>
    void change_and_wake_all(Change change)
    {
        SpinlockGuard guard(m_lock);
        change();
        wake_all_locked();
    }
    template<typename Change>
    void change_and_wake_one(Change change)
    {
        SpinlockGuard guard(m_lock);
        change();
        if (Thread* thread = m_waiters.take_first())
            Scheduler::wake(*thread);
    }
    void wake_all()
    {
        SpinlockGuard guard(m_lock);
        wake_all_locked();
    }

private:
    void wake_all_locked() TA_REQUIRES(m_lock)
    {
        while (Thread* thread = m_waiters.take_first())
            Scheduler::wake(*thread);
    }

    // Protects m_waiters and, for a caller's condition, whatever state the
    // caller changes only through change_and_wake_*().
    Spinlock<LockRank::WaitQueue> m_lock;
    IntrusiveList<Thread, &Thread::m_wait_node> m_waiters TA_GUARDED_BY(m_lock);
};

} // namespace tessera
