#pragma once
// A piece of deferred work: `function(argument)` run later by a WorkQueue's
// kernel thread, where it may sleep. The owner embeds the item (queueing
// links an intrusive node, never allocates) and keeps it alive until it has
// run or WorkQueue::cancel_sync() returned; the function itself may free it.

#include <kernel/lib/intrusive_list.h>

namespace tessera {

class WorkItem {
public:
    using Function = void (*)(void* argument);

    WorkItem(Function function, void* argument)
        : m_function(function)
        , m_argument(argument)
    {
    }
    WorkItem(const WorkItem&) = delete;
    WorkItem& operator=(const WorkItem&) = delete;

private:
    friend class WorkQueue;

    Function m_function;
    void* m_argument;
    // Protected by the lock of the queue it is queued on.
    IntrusiveListNode m_node;
};

} // namespace tessera
