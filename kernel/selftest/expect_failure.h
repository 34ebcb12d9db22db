#pragma once
// Captures the failures of the running case's own expectations instead of
// failing the case, so that the failing side of KEXPECT, KEXPECT_EQ and KMUST
// can itself be tested:
//
//   SelftestExpectFailure capture;
//   KEXPECT_EQ(1, 2);
//   capture.stop();
//   KEXPECT_EQ(capture.count(), 1u);
//
// Only failures from the thread that made the capture are diverted; the
// other threads of the case, and interrupt handlers (timer callbacks) that
// interrupt the capturing thread, still fail it. Captures nest.

#include <kernel/lib/kstd.h>
#include <kernel/lib/string_view.h>

namespace tessera {

class SelftestCaseContext;

class SelftestExpectFailure {
public:
    SelftestExpectFailure();
    ~SelftestExpectFailure() { stop(); }
    SelftestExpectFailure(const SelftestExpectFailure&) = delete;
    SelftestExpectFailure& operator=(const SelftestExpectFailure&) = delete;

    // Ends the capture early; later failures fail the case again.
    void stop();

    // False if made outside a running case (nothing is captured then).
    bool active() const { return m_active; }
    // Failures captured so far; the first one's location and text are kept.
    uint32_t count() const { return m_count; }
    const char* file() const { return m_file; }
    int line() const { return m_line; }
    StringView message() const { return StringView(m_message); }
    bool message_contains(StringView needle) const;

    // Called by selftest_fail(): true if the failure was captured.
    bool capture(uint64_t thread_id, const char* file, int line, const char* message);

private:
    SelftestCaseContext* m_context { nullptr };
    SelftestExpectFailure* m_outer { nullptr };
    bool m_active { false };
    uint64_t m_thread_id { 0 };
    uint32_t m_count { 0 };
    const char* m_file { "" };
    int m_line { 0 };
    char m_message[192] {};
};

} // namespace tessera
