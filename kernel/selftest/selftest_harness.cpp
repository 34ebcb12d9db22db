// Selftests of the selftest harness itself, and the fault injection that
// lets the QEMU runner's own tests see each way a run can go wrong
// (tessera.inject=...; kernel/config/lib/node_config.h). With
// tessera.inject=none, the default, every case here passes. KSKIP_IF is
// shown by arch_smp at -smp 1 (tools/check.py selftest-seabios-smp1).

#include <arch/cpu.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/console/console_fault_injection.h>
#include <kernel/lib/string_view.h>
#include <kernel/locking/selftest_inject_lock_checks.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/expect_failure.h>
#include <kernel/selftest/panic_race.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>
#include <kernel/time/timer.h>

namespace tessera {

namespace {

constexpr StringView this_file = __FILE__;

// Set by the first case, checked by the second: one thread per case.
constinit uint64_t s_first_case_thread_id = 0;

ErrorOr<int> succeed_with(int value) { return value; }
ErrorOr<int> fail_with(Errno code) { return Error(code, "failing on purpose"); }

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

// Checks that `capture` holds exactly one failure, from this file at `line`,
// with exactly `message`.
void expect_one_capture(const SelftestExpectFailure& capture, int line, StringView message)
{
    KEXPECT(capture.active());
    KEXPECT_EQ(capture.count(), 1u);
    KEXPECT(StringView(capture.file()) == this_file);
    KEXPECT_EQ(capture.line(), line);
    if (capture.message() != message)
        console_print("    # captured \"%s\"\n", capture.message().data());
    KEXPECT(capture.message() == message);
}

void failing_kexpect_is_recorded()
{
    SelftestExpectFailure capture;
    int line = __LINE__ + 1;
    KEXPECT(false);
    capture.stop();
    expect_one_capture(capture, line, "expected false");
    // The capture took it: the case itself has not failed.
    KEXPECT(!selftest_current_case_failed());
}

void failing_kexpect_eq_shows_both_values()
{
    SelftestExpectFailure capture;
    int line = __LINE__ + 1;
    KEXPECT_EQ(1, 2);
    capture.stop();
    expect_one_capture(capture, line, "expected 1 == 2, got 1 vs 2");
    KEXPECT(!selftest_current_case_failed());
}

// KMUST returns from the function it is in: `reached` stays false.
void must_fail(bool& reached, int& line)
{
    line = __LINE__ + 1;
    int value = KMUST(fail_with(Errno::NOMEM));
    reached = value >= 0;
}

void failing_kmust_records_and_returns()
{
    bool reached = false;
    int line = 0;
    SelftestExpectFailure capture;
    must_fail(reached, line);
    capture.stop();
    KEXPECT(!reached);
    expect_one_capture(capture, line, "fail_with(Errno::NOMEM) failed: ENOMEM");
    KEXPECT(!selftest_current_case_failed());
}

// A helper thread belongs to the case that started it: its failure is seen
// by the case (here through a capture made in the helper itself).
struct HelperReport {
    bool belongs_to_case { false };
    uint32_t captured { 0 };
};

void report_from_helper(void* argument)
{
    auto& report = *static_cast<HelperReport*>(argument);
    SelftestExpectFailure capture;
    report.belongs_to_case = capture.active();
    KEXPECT(false);
    capture.stop();
    report.captured = capture.count();
}

void helper_threads_belong_to_their_case()
{
    HelperReport report;
    SelftestThread* helper = KMUST(selftest_start_thread("helper", report_from_helper, &report));
    selftest_join_thread(helper);
    KEXPECT(report.belongs_to_case);
    KEXPECT_EQ(report.captured, 1u);
    KEXPECT(!selftest_current_case_failed());
}

// A helper the case does not join is waited for by the runner before the
// case ends; the next case sees it finished.
constinit kstd::atomic<bool> s_unjoined_helper_done { false };

void runner_joins_helpers()
{
    auto finish_late = [](void*) {
        sleep_ms(20);
        s_unjoined_helper_done.store(true);
    };
    KMUST(selftest_start_thread("unjoined", finish_late, nullptr));
}

void helpers_finished_before_the_next_case() { KEXPECT(s_unjoined_helper_done.load()); }

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

// Set when injected_failure's function returns; the late threads fail on it.
constinit kstd::atomic<bool> s_case_returned { false };

constinit kstd::atomic<bool> s_timer_failed { false };

void fail_from_timer(void*)
{
    KEXPECT(!"a timer callback fails inside the case's capture");
    s_timer_failed.store(true);
}

// The timer fires while this thread spins inside its capture; with one CPU
// it interrupts this very thread. Its failure is not this thread's own, so
// it must fail the case rather than be captured.
void fail_from_interrupt_inside_a_capture()
{
    Timer timer(fail_from_timer, nullptr);
    SelftestExpectFailure capture;
    timer.arm_after(10 * ns_per_ms);
    uint64_t deadline = uptime_ns() + 2000 * ns_per_ms;
    while (!s_timer_failed.load() && uptime_ns() < deadline)
        arch::relax();
    capture.stop();
    timer.cancel();
}

constinit kstd::atomic<bool> s_timer_skipped { false };

void skip_from_timer(void*)
{
    selftest_skip("skipped by a timer callback");
    s_timer_skipped.store(true);
}

// A handler belongs to no case, whatever thread it interrupted: its skip
// must be a harness error, not turn the interrupted case into a skip.
void skip_from_interrupt()
{
    Timer timer(skip_from_timer, nullptr);
    timer.arm_after(10 * ns_per_ms);
    uint64_t deadline = uptime_ns() + 2000 * ns_per_ms;
    while (!s_timer_skipped.load() && uptime_ns() < deadline)
        arch::relax();
    timer.cancel();
}

void fail_after_case_returned(void*)
{
    while (!s_case_returned.load())
        sleep_ms(5);
    sleep_ms(50);
    KEXPECT(!s_case_returned.load());
}

// Not inlined, so that a fault here is reported in this function whatever the
// size of the switch (control-cpu-exception matches the name).
[[gnu::noinline]] void injected_misbehaviour(FaultInjection inject)
{
    switch (inject) {
    case FaultInjection::None:
    case FaultInjection::VirtioCorruptTx: // the virtio-net driver's, not the harness's
        return;
    case FaultInjection::Fail:
        selftest_fail(__FILE__, __LINE__, "injected failure (tessera.inject=fail)");
        return;
    case FaultInjection::FailExpect:
        KEXPECT(inject != FaultInjection::FailExpect);
        return;
    case FaultInjection::FailEq:
        KEXPECT_EQ(2 + 2, 5);
        return;
    case FaultInjection::FailMust:
        KMUST(fail_with(Errno::NOMEM));
        selftest_fail(__FILE__, __LINE__, "KMUST did not return");
        return;
    case FaultInjection::FailThread:
        KMUST(selftest_start_thread("late-helper", fail_after_case_returned, nullptr));
        return;
    case FaultInjection::FailLateThread:
        // A plain, detached thread, which the runner does not wait for.
        (void)KMUST(Thread::try_create("late-plain", fail_after_case_returned, nullptr));
        return;
    case FaultInjection::StuckThread: {
        auto never_return = [](void*) {
            for (;;)
                sleep_ms(1000);
        };
        KMUST(selftest_start_thread("stuck", never_return, nullptr));
        return;
    }
    case FaultInjection::PanicRace:
        KMUST(panic_race_arm());
        return;
    // The may-sleep checks of kernel/locking/sleep_checks.h: each must panic.
    case FaultInjection::MutexUnderSpinlock:
        selftest_inject_mutex_under_spinlock();
    case FaultInjection::ScheduleUnderSpinlock:
        selftest_inject_schedule_under_spinlock();
    case FaultInjection::MutexInterruptsOff:
        selftest_inject_mutex_with_interrupts_disabled();
    case FaultInjection::ConsoleRecursion:
        console_inject_recursive_lock();
        selftest_fail(__FILE__, __LINE__, "printing under the console lock did not panic");
        return;
    case FaultInjection::FailIrqInCapture:
        fail_from_interrupt_inside_a_capture();
        return;
    case FaultInjection::SkipFromIrq:
        skip_from_interrupt();
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
    selftest_fail(__FILE__, __LINE__, "unknown fault injection %d", static_cast<int>(inject));
}

// Misbehaves as tessera.inject asks; passes when nothing is injected.
void injected_failure()
{
    injected_misbehaviour(node_config().inject);
    s_case_returned.store(true);
}

// After tessera.inject=fail-late-thread, the late failure arrives while this
// case runs: it must be a harness error, not a failure of this case.
void later_case_is_not_blamed()
{
    if (node_config().inject != FaultInjection::FailLateThread)
        return;
    uint64_t deadline = uptime_ns() + 5000 * ns_per_ms;
    while (selftest_harness_error_count() == 0 && uptime_ns() < deadline)
        sleep_ms(5);
    KEXPECT_EQ(selftest_harness_error_count(), 1u);
    KEXPECT(!selftest_current_case_failed());
}

} // namespace

SELFTEST_SUITE(selftest_harness, CONFIG_SELFTEST_HARNESS_SELFTEST, SELFTEST_CASE(expectations_are_recorded),
    SELFTEST_CASE(each_case_gets_a_fresh_thread), SELFTEST_CASE(failing_kexpect_is_recorded),
    SELFTEST_CASE(failing_kexpect_eq_shows_both_values), SELFTEST_CASE(failing_kmust_records_and_returns),
    SELFTEST_CASE(helper_threads_belong_to_their_case), SELFTEST_CASE(runner_joins_helpers),
    SELFTEST_CASE(helpers_finished_before_the_next_case), SELFTEST_CASE(injected_failure),
    SELFTEST_CASE(later_case_is_not_blamed));

} // namespace tessera
