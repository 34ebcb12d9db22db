#pragma once
// The state of one running selftest case, created by the runner for each
// case. Threads belong to the case during which they were created: thread
// ids only grow, so a thread belongs to the case whose first thread id is
// the greatest one not above its own. That needs no field in Thread, and
// covers threads started with plain Thread::try_create too.
//
// The failure count and the "ended" mark share one atomic word, so a failure
// is either counted before the runner reads the verdict or seen to be late;
// it is never lost and never counted for another case.

#include <kernel/lib/kstd.h>
#include <kernel/selftest/case_thread.h>
#include <kernel/selftest/selftest.h>

namespace tessera {

class SelftestExpectFailure;

class SelftestCaseContext {
public:
    static constexpr uint32_t max_threads = 16;

    SelftestCaseContext(const SelftestSuite& suite, const SelftestCase& test_case)
        : m_suite(suite)
        , m_case(test_case)
    {
    }

    const SelftestSuite& suite() const { return m_suite; }
    const SelftestCase& test_case() const { return m_case; }

    // The id of the case's own thread; every thread of the case has an id
    // at least this high.
    uint64_t first_thread_id() const { return m_first_thread_id.load(kstd::memory_order_acquire); }
    void set_first_thread_id(uint64_t id) { m_first_thread_id.store(id, kstd::memory_order_release); }
    bool owns_thread(uint64_t thread_id) const
    {
        uint64_t first = first_thread_id();
        return first != 0 && thread_id >= first;
    }

    // Counts a failure; false if the case has already ended.
    bool record_failure()
    {
        uint32_t state = m_state.load(kstd::memory_order_acquire);
        do {
            if (state & ended_bit)
                return false;
        } while (!m_state.compare_exchange_weak(state, state + 1, kstd::memory_order_acq_rel));
        return true;
    }
    uint32_t failure_count() const { return m_state.load(kstd::memory_order_acquire) & ~ended_bit; }
    // Ends the case; returns the final failure count. Later failures are late.
    uint32_t end() { return m_state.fetch_or(ended_bit, kstd::memory_order_acq_rel) & ~ended_bit; }

    void skip(const char* reason) { m_skip_reason.store(reason, kstd::memory_order_release); }
    const char* skip_reason() const { return m_skip_reason.load(kstd::memory_order_acquire); }

    // Installs `capture` (nullptr removes it); returns the one it replaces.
    SelftestExpectFailure* exchange_capture(SelftestExpectFailure* capture)
    {
        return m_capture.exchange(capture, kstd::memory_order_acq_rel);
    }
    SelftestExpectFailure* capture() const { return m_capture.load(kstd::memory_order_acquire); }

    // A free helper record, or nullptr when max_threads are in use.
    SelftestThread* claim_thread()
    {
        uint32_t index = m_thread_count.fetch_add(1, kstd::memory_order_acq_rel);
        if (index >= max_threads) {
            m_thread_count.fetch_sub(1, kstd::memory_order_acq_rel);
            return nullptr;
        }
        return &m_threads[index];
    }
    uint32_t thread_count() const { return m_thread_count.load(kstd::memory_order_acquire); }
    SelftestThread& thread_at(uint32_t index) { return m_threads[index]; }

private:
    static constexpr uint32_t ended_bit = 1u << 31;

    const SelftestSuite& m_suite;
    const SelftestCase& m_case;
    kstd::atomic<uint64_t> m_first_thread_id { 0 };
    kstd::atomic<uint32_t> m_state { 0 };
    kstd::atomic<const char*> m_skip_reason { nullptr };
    kstd::atomic<SelftestExpectFailure*> m_capture { nullptr };
    kstd::atomic<uint32_t> m_thread_count { 0 };
    SelftestThread m_threads[max_threads];
};

// The context of the running case, or nullptr between cases.
SelftestCaseContext* selftest_running_case();
// The running case's context if the calling thread belongs to it.
SelftestCaseContext* selftest_context_of_current_thread();

} // namespace tessera
