#include <kernel/console/panic.h>
#include <kernel/sched/work_queue.h>

namespace tessera {

namespace {

// Set once at boot, before any CPU but the BSP runs.
constinit WorkQueue* s_system_queue = nullptr;

} // namespace

ErrorOr<WorkQueue*> WorkQueue::try_create(const char* name, size_t worker_count)
{
    VERIFY(worker_count >= 1 && worker_count <= max_workers);
    auto* queue = new (kstd::nothrow) WorkQueue;
    if (queue == nullptr)
        return Error(Errno::NOMEM, "no memory for a work queue");
    for (size_t i = 0; i < worker_count; ++i) {
        Worker& worker = queue->m_workers[i];
        worker.queue = queue;
        auto thread = Thread::try_create(name, run_worker, &worker);
        if (thread.is_error()) {
            delete queue; // stops the workers created so far
            return thread.release_error();
        }
        queue->m_changed.change_and_wake_all([&] {
            worker.thread = thread.value();
            ++queue->m_worker_count;
        });
    }
    return queue;
}

WorkQueue::~WorkQueue()
{
    m_changed.change_and_wake_all([&] { m_stopping = true; });
    for (size_t i = 0; i < max_workers; ++i) {
        if (m_workers[i].thread)
            m_workers[i].thread->join();
    }
    VERIFY(m_pending.is_empty());
}

WorkQueue& WorkQueue::system()
{
    VERIFY(s_system_queue != nullptr);
    return *s_system_queue;
}

void WorkQueue::start_system_queue()
{
    VERIFY(s_system_queue == nullptr);
    // Two workers, so that one item sleeping does not hold up the rest.
    s_system_queue = MUST(try_create("work", 2));
}

bool WorkQueue::queue(WorkItem& item)
{
    bool queued = false;
    m_changed.change_and_wake_all([&] {
        VERIFY(!m_stopping);
        if (item.m_node.is_linked())
            return;
        m_pending.append(item);
        queued = true;
    });
    return queued;
}

bool WorkQueue::cancel_sync(WorkItem& item)
{
    bool was_queued = false;
    bool from_itself = false;
    m_changed.wait_until([&] {
        if (item.m_node.is_linked()) {
            m_pending.remove(item);
            was_queued = true;
        }
        for (size_t i = 0; i < m_worker_count; ++i) {
            if (m_workers[i].running == &item && m_workers[i].thread.ptr() == &current_thread())
                from_itself = true;
        }
        return from_itself || !is_running(item);
    });
    return was_queued;
}

void WorkQueue::flush()
{
    m_changed.wait_until([&] {
        if (is_own_worker(current_thread()))
            panic("WorkQueue::flush() from one of its own items would wait for itself");
        return is_idle();
    });
}

WorkItem* WorkQueue::take_runnable()
{
    for (WorkItem* item = m_pending.first(); item != nullptr; item = m_pending.next_of(*item)) {
        if (!is_running(*item)) {
            m_pending.remove(*item);
            return item;
        }
    }
    return nullptr;
}

bool WorkQueue::is_running(const WorkItem& item) const
{
    for (const Worker& worker : m_workers) {
        if (worker.running == &item)
            return true;
    }
    return false;
}

bool WorkQueue::is_idle() const
{
    for (const Worker& worker : m_workers) {
        if (worker.running != nullptr)
            return false;
    }
    return m_pending.is_empty();
}

bool WorkQueue::is_own_worker(const Thread& thread) const
{
    for (const Worker& worker : m_workers) {
        if (worker.thread.ptr() == &thread)
            return true;
    }
    return false;
}

void WorkQueue::run_worker(void* argument)
{
    auto& worker = *static_cast<Worker*>(argument);
    WorkQueue& queue = *worker.queue;
    for (;;) {
        WorkItem* item = nullptr;
        queue.m_changed.wait_until([&] {
            item = queue.take_runnable();
            if (item != nullptr)
                worker.running = item;
            return item != nullptr || queue.m_stopping;
        });
        if (item == nullptr)
            return; // stopping, and nothing left to run
        // Read before the call: the function may free the item.
        WorkItem::Function function = item->m_function;
        void* function_argument = item->m_argument;
        function(function_argument);
        queue.m_changed.change_and_wake_all([&] { worker.running = nullptr; });
    }
}

} // namespace tessera
