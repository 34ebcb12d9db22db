#pragma once
// Deferred work run by kernel threads. queue() may be called from any
// context (threads, interrupt handlers, timer callbacks): it only links the
// item and wakes a worker. Items run in thread context, in queue order,
// each one on one worker at a time (an item queued again while it runs
// runs again after it returns).
//
//   WorkQueue::system().queue(m_retransmit_work);
//
// The system queue is started with the scheduler; subsystems with work that
// may block for long create their own with try_create().

#include <kernel/lib/error_or.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/sched/work_item.h>

namespace tessera {

class WorkQueue {
public:
    static constexpr size_t max_workers = 4;

    static ErrorOr<WorkQueue*> try_create(const char* name, size_t worker_count);
    // Runs what is still queued, then stops and joins the workers.
    ~WorkQueue();
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    static WorkQueue& system();
    // Called once by the scheduler's boot initialization.
    static void start_system_queue();

    // Queues `item` unless it is already queued (then returns false: it
    // will run once for both). An item belongs to one queue for its life.
    bool queue(WorkItem& item);
    // Takes `item` off the queue if it is queued, and waits until it is not
    // running (unless called from the item itself). On return it is neither
    // queued nor running, unless someone queues it again. True if it was
    // queued.
    bool cancel_sync(WorkItem& item);
    // Waits until nothing is queued or running. Not from this queue's items.
    void flush();

private:
    struct Worker {
        WorkQueue* queue { nullptr };
        RefPtr<Thread> thread; // dropped with the queue, after the join
        WorkItem* running { nullptr }; // compared, never dereferenced after it ran
    };

    WorkQueue() = default;
    static void run_worker(void* argument);
    // Called under m_changed's lock.
    WorkItem* take_runnable();
    bool is_running(const WorkItem& item) const;
    bool is_idle() const;
    bool is_own_worker(const Thread& thread) const;

    // The lock of m_changed protects everything below; every change wakes
    // all its waiters (workers, flush() and cancel_sync() callers).
    WaitQueue m_changed;
    IntrusiveList<WorkItem, &WorkItem::m_node> m_pending;
    Worker m_workers[max_workers];
    size_t m_worker_count { 0 };
    bool m_stopping { false };
};

} // namespace tessera
