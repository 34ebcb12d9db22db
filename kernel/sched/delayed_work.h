#pragma once
// A WorkItem queued by a Timer: work that runs in thread context some time
// from now (a retransmission, an RPC timeout handler that may sleep).
//
//   DelayedWork m_timeout { on_timeout, this };
//   m_timeout.queue_after(WorkQueue::system(), 50 * ns_per_ms);

#include <kernel/sched/work_item.h>
#include <kernel/sched/work_queue.h>
#include <kernel/time/timer.h>

namespace tessera {

class DelayedWork {
public:
    DelayedWork(WorkItem::Function function, void* argument)
        : m_timer(on_timer, this)
        , m_work(function, argument)
    {
    }
    DelayedWork(const DelayedWork&) = delete;
    DelayedWork& operator=(const DelayedWork&) = delete;

    // Queues the work on `queue` once `ns` have passed. Calling it again
    // before the timer fired moves the deadline. Always the same queue.
    void queue_after(WorkQueue& queue, uint64_t ns)
    {
        VERIFY(m_queue == nullptr || m_queue == &queue);
        m_queue = &queue;
        m_timer.arm_after(ns);
    }
    // Stops the timer and takes the work off the queue, waiting for a run
    // in progress. True if either was pending.
    bool cancel_sync()
    {
        bool was_pending = m_timer.cancel();
        if (m_queue != nullptr && m_queue->cancel_sync(m_work))
            was_pending = true;
        return was_pending;
    }

private:
    static void on_timer(void* argument)
    {
        auto& self = *static_cast<DelayedWork*>(argument);
        self.m_queue->queue(self.m_work);
    }

    Timer m_timer;
    WorkItem m_work;
    // Set before the timer is armed; the wheel's lock orders it before the callback.
    WorkQueue* m_queue { nullptr };
};

} // namespace tessera
