#include <net/rdma/lib/completion_queue.h>

namespace tessera::rdma {

// The analyzer loses track of an OwnPtr moved into ErrorOr (as in
// kernel/lib/containers_check.cpp).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<CompletionQueue>> CompletionQueue::try_create(size_t capacity)
{
    if (capacity == 0 || capacity > (1u << 20))
        return Error(Errno::INVAL, "CQ: capacity out of range");
    auto cq = TRY(adopt_own_if_nonnull(new (kstd::nothrow) CompletionQueue()));
    TRY(cq->m_entries.try_resize(capacity));
    return cq;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

size_t CompletionQueue::poll(Span<WorkCompletion> entries)
{
    size_t taken = 0;
    while (taken < entries.size() && m_count > 0) {
        entries[taken++] = m_entries[m_head];
        m_head = (m_head + 1) % m_entries.size();
        --m_count;
    }
    return taken;
}

void CompletionQueue::add(const WorkCompletion& completion, bool solicited)
{
    if (m_count == m_entries.size()) {
        ++m_overflows;
        return;
    }
    m_entries[(m_head + m_count) % m_entries.size()] = completion;
    ++m_count;
    bool fires = !m_solicited_only || solicited || completion.status != WcStatus::Success;
    if (m_armed && fires && m_callback != nullptr) {
        m_armed = false;
        m_callback(*this, m_context);
    }
}

} // namespace tessera::rdma
