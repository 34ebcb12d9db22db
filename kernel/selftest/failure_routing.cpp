// selftest_fail() and its routing: a failure is counted for the case that
// owns the failing thread (case_context.h says how ownership is decided),
// captured by a SelftestExpectFailure of that thread, or, if the thread's case
// has ended or the thread belongs to no case, reported as a harness error.

#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/irq/irq.h>
#include <kernel/lib/format.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/expect_failure.h>
#include <kernel/selftest/failure_routing.h>

namespace tessera {

namespace {

// Every case run so far, in order, to name the case of a late failure.
struct CaseRecord {
    uint64_t first_thread_id;
    const char* suite;
    const char* name;
};
constexpr size_t history_capacity = 512;
constinit CaseRecord s_history[history_capacity] {};
// Entries below this are complete (written by the runner before publishing).
constinit kstd::atomic<size_t> s_history_count { 0 };

constinit kstd::atomic<SelftestCaseContext*> s_running { nullptr };
constinit kstd::atomic<size_t> s_harness_errors { 0 };
constinit kstd::atomic<bool> s_verdict_taken { false };

const CaseRecord* case_of_thread(uint64_t thread_id)
{
    const CaseRecord* found = nullptr;
    size_t count = s_history_count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
        if (s_history[i].first_thread_id <= thread_id)
            found = &s_history[i];
    }
    return found;
}

void report_harness_error(const Thread& thread, const char* message)
{
    const CaseRecord* record = case_of_thread(thread.id());
    char where[160];
    if (irq_in_handler())
        format(where, sizeof(where), "in an interrupt handler");
    else if (record != nullptr)
        format(where, sizeof(where), "after its case %s.%s ended", record->suite, record->name);
    else
        format(where, sizeof(where), "that no case started");
    s_harness_errors.fetch_add(1);
    console_print("    # harness error: a failure from thread %s %s\n", thread.name(), where);
    // Pairs with selftest_take_verdict(): either the runner sees this error
    // or this sees that the verdict was taken (both sequentially consistent).
    if (s_verdict_taken.load())
        panic("selftest failure after the verdict: thread %s %s: %s", thread.name(), where, message);
}

} // namespace

void selftest_set_running_case(SelftestCaseContext* context)
{
    if (context != nullptr) {
        size_t index = s_history_count.load(kstd::memory_order_relaxed);
        if (index < history_capacity) {
            s_history[index] = { context->first_thread_id(), context->suite().name, context->test_case().name };
            s_history_count.store(index + 1, kstd::memory_order_release);
        }
    }
    s_running.store(context, kstd::memory_order_release);
}

size_t selftest_take_verdict()
{
    s_verdict_taken.store(true);
    return s_harness_errors.load();
}

SelftestCaseContext* selftest_running_case() { return s_running.load(kstd::memory_order_acquire); }

SelftestCaseContext* selftest_context_of_current_thread()
{
    SelftestCaseContext* context = selftest_running_case();
    if (context == nullptr || !context->owns_thread(current_thread().id()))
        return nullptr;
    return context;
}

void selftest_fail(const char* file, int line, const char* fmt, ...)
{
    char message[256];
    va_list args;
    va_start(args, fmt);
    vformat(message, sizeof(message), fmt, args);
    va_end(args);

    const Thread& thread = current_thread();
    SelftestCaseContext* context = selftest_context_of_current_thread();
    // A capture takes its own thread's failures; an interrupt handler that
    // happened to interrupt that thread is not the thread.
    if (context != nullptr && !irq_in_handler()) {
        SelftestExpectFailure* capture = context->capture();
        if (capture != nullptr && capture->capture(thread.id(), file, line, message))
            return;
    }
    // The diagnostic comes first, so that a counted failure always precedes
    // its case's `not ok` line.
    console_print("    # %s:%d %s\n", file, line, message);
    if (context != nullptr && context->record_failure())
        return;
    report_harness_error(thread, message);
}

bool selftest_current_case_failed()
{
    SelftestCaseContext* context = selftest_context_of_current_thread();
    return context != nullptr && context->failure_count() != 0;
}

size_t selftest_harness_error_count() { return s_harness_errors.load(); }

void selftest_skip(const char* reason)
{
    // A handler is no case's, whichever case's thread it interrupted.
    SelftestCaseContext* context = irq_in_handler() ? nullptr : selftest_context_of_current_thread();
    if (context != nullptr) {
        context->skip(reason);
        return;
    }
    const Thread& thread = current_thread();
    console_print("    # selftest_skip(\"%s\") outside its case\n", reason);
    report_harness_error(thread, "selftest_skip outside its case");
}

} // namespace tessera
