// Selftests of the selftest harness itself, and the fault injection that
// lets the QEMU runner's own tests see each way a run can go wrong
// (tessera.inject=fail|fault|hang|overflow; kernel/config/lib/node_config.h).
// With tessera.inject=none, the default, every case here passes.

#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/lib/string_view.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>

namespace tessera {

namespace {

// Set by the first case, checked by the second: one thread per case.
constinit uint64_t s_first_case_thread_id = 0;

ErrorOr<int> succeed_with(int value) { return value; }

// Passing expectations leave the case passing, and KMUST yields the value.
void expectations_are_recorded()
{
    KEXPECT(true);
    KEXPECT_EQ(2 + 2, 4);
    KEXPECT_EQ(static_cast<uint64_t>(1) << 40, 0x10000000000ull);
    int value = KMUST(succeed_with(41)) + 1;
    KEXPECT_EQ(value, 42);
    KEXPECT(!selftest_current_case_failed());
    // The runner names the case's thread after the case.
    KEXPECT(StringView(current_thread().name()) == StringView("expectations_are_recorded"));
    s_first_case_thread_id = current_thread().id();
}

void each_case_gets_a_fresh_thread()
{
    KEXPECT(s_first_case_thread_id != 0);
    KEXPECT(current_thread().id() != s_first_case_thread_id);
    KEXPECT(StringView(current_thread().name()) == StringView("each_case_gets_a_fresh_thread"));
    KEXPECT_EQ(current_thread().pinned_cpu(), Thread::any_cpu);
    KEXPECT(!selftest_current_case_failed());
}

// Recurses until the stack runs into its guard page. The page fault cannot
// push its frame there, so the CPU raises a double fault, which runs on its
// own IST stack and reports.
// The limit is never reached (a kernel stack is 16 KiB); it only tells the
// compiler the recursion ends.
[[gnu::noinline]] uint64_t recurse_deeply(uint64_t depth, uint64_t limit)
{
    volatile uint8_t frame[512];
    frame[0] = static_cast<uint8_t>(depth);
    frame[depth % sizeof(frame)] = static_cast<uint8_t>(depth);
    if (depth == limit)
        return frame[0];
    return recurse_deeply(depth + 1, limit) + frame[0];
}

// Misbehaves as tessera.inject asks; passes when nothing is injected.
void injected_failure()
{
    switch (node_config().inject) {
    case FaultInjection::None:
    case FaultInjection::PanicRace: // kernel/platform/selftest_ending.cpp injects it
        return;
    case FaultInjection::Fail:
        selftest_fail(__FILE__, __LINE__, "injected failure (tessera.inject=fail)");
        return;
    case FaultInjection::Fault: {
        // Non-canonical: a general-protection fault, which no probe fixup covers.
        auto* bad = reinterpret_cast<volatile uint64_t*>(0xdead000000000000ull);
        uint64_t value = *bad;
        // Not reached; keeps the load from being optimized away.
        console_print("    # read %#llx from a non-canonical address\n", static_cast<unsigned long long>(value));
        selftest_fail(__FILE__, __LINE__, "the injected fault did not fault");
        return;
    }
    case FaultInjection::StackOverflow:
        console_print("    # overflowed: %llu\n", static_cast<unsigned long long>(recurse_deeply(0, ~0ull)));
        selftest_fail(__FILE__, __LINE__, "the stack overflow did not fault");
        return;
    case FaultInjection::Hang:
        // Silent forever: only the runner's silence timeout ends this run.
        for (;;)
            sleep_ms(1000);
    }
    selftest_fail(__FILE__, __LINE__, "unknown fault injection %d", static_cast<int>(node_config().inject));
}

} // namespace

SELFTEST_SUITE(selftest_harness, CONFIG_SELFTEST_HARNESS_SELFTEST, SELFTEST_CASE(expectations_are_recorded),
    SELFTEST_CASE(each_case_gets_a_fresh_thread), SELFTEST_CASE(injected_failure));

} // namespace tessera
