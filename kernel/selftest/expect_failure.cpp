#include <kernel/lib/format.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/case_context.h>
#include <kernel/selftest/expect_failure.h>

namespace tessera {

SelftestExpectFailure::SelftestExpectFailure()
    : m_context(selftest_context_of_current_thread())
    , m_active(m_context != nullptr)
    , m_thread_id(current_thread().id())
{
    if (m_context != nullptr)
        m_outer = m_context->exchange_capture(this);
}

void SelftestExpectFailure::stop()
{
    if (m_context == nullptr)
        return;
    m_context->exchange_capture(m_outer);
    m_context = nullptr;
}

bool SelftestExpectFailure::capture(uint64_t thread_id, const char* file, int line, const char* message)
{
    if (thread_id != m_thread_id) {
        // An outer capture may belong to this thread.
        return m_outer != nullptr && m_outer->capture(thread_id, file, line, message);
    }
    if (m_count++ == 0) {
        m_file = file;
        m_line = line;
        format(m_message, sizeof(m_message), "%s", message);
    }
    return true;
}

bool SelftestExpectFailure::message_contains(StringView needle) const
{
    StringView text = message();
    if (needle.length() > text.length())
        return false;
    for (size_t i = 0; i + needle.length() <= text.length(); ++i) {
        if (text.substring(i, needle.length()) == needle)
            return true;
    }
    return false;
}

} // namespace tessera
