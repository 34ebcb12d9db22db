#pragma once
// In-kernel selftests in KUnit form. A suite registers itself in the
// .kselftest_suites linker section; the runner finds every suite through
// __start_/__stop_ symbols, runs each case in a fresh kernel thread (one at
// a time) and prints KTAP version 1 on the console:
//
//   SELFTEST_SUITE(heap_basic, CONFIG_HEAP_SELFTEST,
//       SELFTEST_CASE(allocate_and_free),
//       SELFTEST_CASE(exhaustion));
//
// A failed expectation prints "# file:line expected X got Y" before the
// case's "not ok" line. Suites whose Kconfig option is off print "# SKIP";
// a case that cannot test anything here calls KSKIP_IF.
//
// Each case owns its failure state (kernel/selftest/case_context.h). A
// failure counts for the case during which the failing thread was created,
// so threads a case starts report to it. A case should start its helper
// threads with selftest_start_thread(): the runner then waits for them
// (bounded) before it ends the case, and fails the case if one is still
// running. A failure from a thread whose case has ended is a harness error,
// which fails the whole run.

#include <kernel/config/lib/node_config.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

struct SelftestCase {
    const char* name;
    void (*function)();
};

struct SelftestSuite {
    const char* name;
    bool enabled; // the suite's CONFIG_*_SELFTEST
    const char* config_name;
    const SelftestCase* cases;
    size_t case_count;
};

// Runs every suite (or the one named by tessera.selftest); true only if
// every case passed or skipped and no harness error happened.
bool run_selftests(const NodeConfig& config);

// Records a failed expectation for the case the calling thread belongs to.
[[gnu::format(printf, 3, 4)]] void selftest_fail(const char* file, int line, const char* fmt, ...);
// True once the calling thread's case has recorded a failure.
bool selftest_current_case_failed();
// Harness errors so far: failures from threads whose case had ended.
size_t selftest_harness_error_count();

// Marks the running case skipped (KTAP `ok N name # SKIP reason`); the case
// should return right after. A skipped case that also failed is `not ok`.
// `reason` must outlive the case (a string literal).
void selftest_skip(const char* reason);

// A helper thread of the running case (kernel/selftest/case_threads.cpp).
class SelftestThread;
using SelftestThreadEntry = void (*)(void* argument);

// Starts `entry(argument)` in a new thread that belongs to the running case.
// The case may join it; the runner joins whatever is left once the case
// function returns, and fails the case if one is still running after a grace
// period. Only a running case's threads may call this.
ErrorOr<SelftestThread*> selftest_start_thread(
    const char* name, SelftestThreadEntry entry, void* argument, int pinned_cpu = -1);
// Waits until the helper has finished. Call it at most once per helper, from
// the thread that started it.
void selftest_join_thread(SelftestThread* thread);

} // namespace tessera

#define SELFTEST_CASE(function_name)                                                                                   \
    ::tessera::SelftestCase { #function_name, function_name }

// The explicit alignment keeps the section a plain array: unasked, GCC
// aligns objects of 32 bytes or more to 32, padding between suites.
#define SELFTEST_SUITE(suite_name, config_option, ...)                                                                 \
    static const ::tessera::SelftestCase suite_name##_cases[] = { __VA_ARGS__ };                                       \
    [[gnu::section(".kselftest_suites"), gnu::used,                                                                    \
        gnu::aligned(alignof(::tessera::SelftestSuite))]] static const ::tessera::SelftestSuite suite_name##_suite     \
        = { #suite_name, (config_option) != 0, #config_option, suite_name##_cases,                                     \
              sizeof(suite_name##_cases) / sizeof(suite_name##_cases[0]) }

#define KEXPECT(condition)                                                                                             \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            ::tessera::selftest_fail(__FILE__, __LINE__, "expected %s", #condition);                                   \
    } while (0)

#define KEXPECT_EQ(actual, expected)                                                                                   \
    do {                                                                                                               \
        auto _actual = (actual);                                                                                       \
        auto _expected = (expected);                                                                                   \
        if (!(_actual == _expected))                                                                                   \
            ::tessera::selftest_fail(__FILE__, __LINE__, "expected %s == %s, got %lld vs %lld", #actual, #expected,    \
                static_cast<long long>(_actual), static_cast<long long>(_expected));                                   \
    } while (0)

// Evaluates an ErrorOr expression and fails the case (and returns) on error.
#define KMUST(expression)                                                                                              \
    ({                                                                                                                 \
        auto _result = (expression);                                                                                   \
        if (_result.is_error()) {                                                                                      \
            ::tessera::selftest_fail(                                                                                  \
                __FILE__, __LINE__, "%s failed: %s", #expression, ::tessera::errno_name(_result.error().code()));      \
            return;                                                                                                    \
        }                                                                                                              \
        _result.release_value();                                                                                       \
    })

// Skips the rest of the case (and returns) if `condition` holds.
#define KSKIP_IF(condition, reason)                                                                                    \
    do {                                                                                                               \
        if (condition) {                                                                                               \
            ::tessera::selftest_skip(reason);                                                                          \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)
