#pragma once
// Threads waiting for a condition. The condition is evaluated under the
// queue's lock, and wakers change what it reads and then wake under the
// same lock, so a wake-up can never be lost between check and sleep.

#include <kernel/lib/intrusive_list.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>

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
    void wake_all_locked()
    {
        while (Thread* thread = m_waiters.take_first())
            Scheduler::wake(*thread);
    }

    // Protects m_waiters and, for a caller's condition, whatever state the
    // caller changes only through change_and_wake_*().
    Spinlock<LockRank::WaitQueue> m_lock;
    IntrusiveList<Thread, &Thread::m_wait_node> m_waiters;
};

} // namespace tessera
