#include <kernel/console/console.h>
#include <kernel/lib/format.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/work_queue.h>
#include <kernel/selftest/case_context.h>
#include <kernel/selftest/case_threads.h>
#include <kernel/selftest/failure_routing.h>
#include <kernel/selftest/panic_race.h>
#include <kernel/selftest/selftest.h>

extern "C" {
extern const tessera::SelftestSuite __start_kselftest_suites[];
extern const tessera::SelftestSuite __stop_kselftest_suites[];
}

namespace tessera {

namespace {

// How long helpers may run on after their case function returned. Long,
// because QEMU without KVM on a loaded machine is slow; a helper that needs
// it is a bug the case should fix by joining it.
constexpr uint64_t helper_grace_ms = 5000;

enum class CaseResult { Pass, Fail, Skip };

void run_case_thread(void* argument)
{
    auto& context = *static_cast<SelftestCaseContext*>(argument);
    // The runner learns this thread's id only from try_create; until it
    // has published the context, a failure here would belong to no case.
    while (selftest_running_case() != &context)
        Scheduler::yield();
    context.test_case().function();
}

bool suite_selected(const SelftestSuite& suite, const NodeConfig& config)
{
    StringView filter(config.selftest_filter);
    return filter == "all" || filter == StringView(suite.name);
}

CaseResult run_case(const SelftestSuite& suite, const SelftestCase& test_case, const char*& skip_reason)
{
    // Never freed: a plain thread of the case may still hold it after the
    // case ended (to find out that it is late). A few hundred bytes a case.
    auto* context = new (kstd::nothrow) SelftestCaseContext(suite, test_case);
    if (context == nullptr) {
        console_print("    # no memory for the context of %s\n", test_case.name);
        return CaseResult::Fail;
    }
    auto thread = Thread::try_create(test_case.name, run_case_thread, context);
    if (thread.is_error()) {
        console_print("    # could not start a thread for %s: %s\n", test_case.name, errno_name(thread.error().code()));
        return CaseResult::Fail;
    }
    context->set_first_thread_id(thread.value()->id());
    selftest_set_running_case(context);
    thread.value()->join();

    uint32_t running = selftest_reap_threads(*context, helper_grace_ms);
    if (running != 0) {
        console_print("    # case ended with %u helper threads still running\n", running);
        context->record_failure();
    }
    // The case's threads are freed by the system work queue's reaper once
    // they have switched away (kernel/sched/thread.h). Wait for it, so that
    // their memory is back before the next case measures the heap.
    {
        auto finished = thread.release_value();
    }
    WorkQueue::system().flush();
    uint32_t failures = context->end();
    selftest_set_running_case(nullptr);
    if (failures != 0)
        return CaseResult::Fail;
    skip_reason = context->skip_reason();
    return skip_reason != nullptr ? CaseResult::Skip : CaseResult::Pass;
}

// Runs the cases of one selected suite; returns how many failed.
size_t run_suite(const SelftestSuite& suite)
{
    console_print("    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", suite.name, suite.case_count);
    size_t failed = 0;
    for (size_t c = 0; c < suite.case_count; ++c) {
        const SelftestCase& test_case = suite.cases[c];
        const char* skip_reason = nullptr;
        switch (run_case(suite, test_case, skip_reason)) {
        case CaseResult::Pass:
            console_print("    ok %zu %s\n", c + 1, test_case.name);
            break;
        case CaseResult::Skip:
            console_print("    ok %zu %s # SKIP %s\n", c + 1, test_case.name, skip_reason);
            break;
        case CaseResult::Fail:
            console_print("    not ok %zu %s\n", c + 1, test_case.name);
            ++failed;
            break;
        }
    }
    return failed;
}

} // namespace

bool run_selftests(const NodeConfig& config)
{
    // The plan comes from the registered count, so a run that stops early
    // (a panic mid-suite) leaves it unsatisfied.
    size_t suite_count = static_cast<size_t>(__stop_kselftest_suites - __start_kselftest_suites);
    size_t failed_suites = 0;
    console_print("KTAP version 1\n1..%zu\n", suite_count);
    for (size_t s = 0; s < suite_count; ++s) {
        const SelftestSuite& suite = __start_kselftest_suites[s];
        if (!suite.enabled) {
            console_print("ok %zu %s # SKIP %s is not set\n", s + 1, suite.name, suite.config_name);
            continue;
        }
        if (!suite_selected(suite, config)) {
            console_print("ok %zu %s # SKIP not selected by tessera.selftest\n", s + 1, suite.name);
            continue;
        }
        size_t failed_cases = run_suite(suite);
        if (failed_cases != 0)
            ++failed_suites;
        console_print("%s %zu %s\n", failed_cases == 0 ? "ok" : "not ok", s + 1, suite.name);
    }
    // From here on a failure cannot change what is printed, so it panics.
    size_t harness_errors = selftest_take_verdict();
    if (failed_suites == 0 && harness_errors == 0) {
        console_print("TESSERA: SELFTESTS PASSED\n");
        // The caller takes the success exit next: the tightest place for a
        // panic on another CPU to race it.
        panic_race_before_success_exit();
        return true;
    }
    console_print("TESSERA: SELFTESTS FAILED (%zu of %zu suites, %zu harness errors)\n", failed_suites, suite_count,
        harness_errors);
    return false;
}

} // namespace tessera
