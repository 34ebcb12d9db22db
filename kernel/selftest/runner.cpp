#include <kernel/console/console.h>
#include <kernel/lib/format.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>

extern "C" {
extern const tessera::SelftestSuite __start_kselftest_suites[];
extern const tessera::SelftestSuite __stop_kselftest_suites[];
}

namespace tessera {

namespace {

// Cases run one at a time, so the running case's state is a single global.
constinit bool s_case_failed = false;
constinit const SelftestCase* s_running_case = nullptr;

void run_case_thread(void*) { s_running_case->function(); }

bool suite_selected(const SelftestSuite& suite, const NodeConfig& config)
{
    StringView filter(config.selftest_filter);
    return filter == "all" || filter == StringView(suite.name);
}

// Returns true if the case passed.
bool run_case(const SelftestCase& test_case)
{
    s_case_failed = false;
    s_running_case = &test_case;
    auto thread = Thread::try_create(test_case.name, run_case_thread, nullptr);
    if (thread.is_error()) {
        console_print("    # could not start a thread for %s: %s\n", test_case.name, errno_name(thread.error().code()));
        return false;
    }
    thread.value()->join();
    s_running_case = nullptr;
    return !s_case_failed;
}

} // namespace

void selftest_fail(const char* file, int line, const char* fmt, ...)
{
    char message[256];
    va_list args;
    va_start(args, fmt);
    vformat(message, sizeof(message), fmt, args);
    va_end(args);
    s_case_failed = true;
    console_print("    # %s:%d %s\n", file, line, message);
}

bool selftest_current_case_failed() { return s_case_failed; }

bool run_selftests(const NodeConfig& config)
{
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
        console_print("    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", suite.name, suite.case_count);
        size_t failed_cases = 0;
        for (size_t c = 0; c < suite.case_count; ++c) {
            bool passed = run_case(suite.cases[c]);
            if (!passed)
                ++failed_cases;
            console_print("    %s %zu %s\n", passed ? "ok" : "not ok", c + 1, suite.cases[c].name);
        }
        if (failed_cases != 0)
            ++failed_suites;
        console_print("%s %zu %s\n", failed_cases == 0 ? "ok" : "not ok", s + 1, suite.name);
    }
    if (failed_suites == 0) {
        console_print("TESSERA: SELFTESTS PASSED\n");
        return true;
    }
    console_print("TESSERA: SELFTESTS FAILED (%zu of %zu suites)\n", failed_suites, suite_count);
    return false;
}

} // namespace tessera
