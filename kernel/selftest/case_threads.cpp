#include <kernel/lib/assert.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/case_thread.h>
#include <kernel/selftest/case_threads.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

void run_helper(void* argument)
{
    auto& helper = *static_cast<SelftestThread*>(argument);
    helper.entry(helper.argument);
    helper.finished.store(true, kstd::memory_order_release);
}

bool all_finished(SelftestCaseContext& context)
{
    for (uint32_t i = 0; i < context.thread_count(); ++i) {
        if (!context.thread_at(i).finished.load(kstd::memory_order_acquire))
            return false;
    }
    return true;
}

// Joins a helper and drops the reference selftest_start_thread() leaked.
void join_and_drop(Thread& thread)
{
    thread.join();
    thread.unref();
}

} // namespace

ErrorOr<SelftestThread*> selftest_start_thread(
    const char* name, SelftestThreadEntry entry, void* argument, int pinned_cpu)
{
    SelftestCaseContext* context = selftest_context_of_current_thread();
    if (context == nullptr)
        return Error(Errno::INVAL, "selftest_start_thread outside a running case");
    SelftestThread* helper = context->claim_thread();
    if (helper == nullptr)
        return Error(Errno::AGAIN, "too many selftest helper threads in one case");
    helper->entry = entry;
    helper->argument = argument;
    auto thread = Thread::try_create(name, run_helper, helper, pinned_cpu);
    if (thread.is_error()) {
        // Nothing runs for this record: the runner must not wait for it.
        helper->joined.store(true, kstd::memory_order_release);
        helper->finished.store(true, kstd::memory_order_release);
        return thread.release_error();
    }
    helper->thread.store(&thread.release_value().leak_ref(), kstd::memory_order_release);
    return helper;
}

void selftest_join_thread(SelftestThread* helper)
{
    VERIFY(!helper->joined.load(kstd::memory_order_acquire));
    join_and_drop(*helper->thread.load(kstd::memory_order_acquire));
    helper->joined.store(true, kstd::memory_order_release);
}

uint32_t selftest_reap_threads(SelftestCaseContext& context, uint64_t grace_ms)
{
    uint64_t deadline = uptime_ns() + grace_ms * 1000000;
    while (!all_finished(context) && uptime_ns() < deadline)
        sleep_ms(2);
    uint32_t running = 0;
    for (uint32_t i = 0; i < context.thread_count(); ++i) {
        SelftestThread& helper = context.thread_at(i);
        if (helper.joined.load(kstd::memory_order_acquire))
            continue;
        // A helper started by a helper that is itself still running may have
        // finished before its starter stored the Thread pointer.
        Thread* thread = helper.thread.load(kstd::memory_order_acquire);
        if (!helper.finished.load(kstd::memory_order_acquire) || thread == nullptr) {
            ++running;
            continue;
        }
        join_and_drop(*thread);
        helper.joined.store(true, kstd::memory_order_release);
    }
    return running;
}

} // namespace tessera
