// Selftests of deferred work (kernel/sched/work_queue.h, delayed_work.h):
// items run in thread context and may sleep, queueing is idempotent,
// queueing from a timer callback, cancel_sync() of a queued and of a running
// item, an item queued while it runs runs again but never twice at once,
// flush(), and delayed work. Waits are bounded so a lost item fails the case.

#include <arch/cpu.h>
#include <kernel/console/console.h>
#include <kernel/sched/delayed_work.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/sched/work_queue.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>
#include <kernel/time/timer.h>

namespace tessera {

namespace {

constexpr uint64_t give_up_ns = 3 * ns_per_second;

struct Job {
    kstd::atomic<uint32_t> runs { 0 };
    kstd::atomic<bool> started { false };
    kstd::atomic<uint32_t> inside { 0 };
    kstd::atomic<bool> overlapped { false };
    kstd::atomic<bool> thread_context { true };
    kstd::atomic<uint64_t> ran_ns { 0 };
    uint64_t sleep_for_ns { 0 };
    WorkItem item { run_job, this };

    static void run_job(void* argument)
    {
        auto& job = *static_cast<Job*>(argument);
        job.started.store(true);
        if (job.inside.fetch_add(1) != 0)
            job.overlapped.store(true);
        if (!arch::interrupts_enabled())
            job.thread_context.store(false);
        job.ran_ns.store(uptime_ns());
        if (job.sleep_for_ns != 0)
            sleep_ns(job.sleep_for_ns); // thread context: sleeping is allowed
        job.inside.fetch_sub(1);
        job.runs.fetch_add(1);
    }
};

bool wait_for(const kstd::atomic<uint32_t>& value, uint32_t target)
{
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (value.load() < target && uptime_ns() < deadline)
        sleep_ms(1);
    return value.load() >= target;
}

// Holds a queue's only worker until opened, so items stay queued meanwhile.
struct Gate {
    WaitQueue changed;
    bool open { false }; // under changed's lock
    kstd::atomic<bool> entered { false };
    WorkItem item { hold, this };

    static void hold(void* argument)
    {
        auto& gate = *static_cast<Gate*>(argument);
        gate.entered.store(true);
        (void)gate.changed.wait_until_for([&] { return gate.open; }, give_up_ns);
    }
    void open_now()
    {
        changed.change_and_wake_all([&] { open = true; });
    }
    bool wait_entered()
    {
        uint64_t deadline = uptime_ns() + give_up_ns;
        while (!entered.load() && uptime_ns() < deadline)
            sleep_ms(1);
        return entered.load();
    }
};

void items_run_in_thread_context_and_may_sleep()
{
    Job job;
    job.sleep_for_ns = 5 * ns_per_ms;
    KEXPECT(WorkQueue::system().queue(job.item));
    KEXPECT(wait_for(job.runs, 1));
    WorkQueue::system().flush();
    KEXPECT_EQ(job.runs.load(), 1u);
    KEXPECT(job.thread_context.load());
}

void queueing_twice_runs_once()
{
    WorkQueue* queue = KMUST(WorkQueue::try_create("work-test", 1));
    Gate gate;
    Job job;
    KEXPECT(queue->queue(gate.item));
    KEXPECT(gate.wait_entered());
    KEXPECT(queue->queue(job.item));
    KEXPECT(!queue->queue(job.item)); // already queued
    sleep_ms(10);
    KEXPECT_EQ(job.runs.load(), 0u); // the only worker is held
    gate.open_now();
    queue->flush();
    KEXPECT_EQ(job.runs.load(), 1u);
    delete queue;
}

void cancel_sync_of_a_queued_item()
{
    WorkQueue* queue = KMUST(WorkQueue::try_create("work-test", 1));
    Gate gate;
    Job job;
    queue->queue(gate.item);
    KEXPECT(gate.wait_entered());
    queue->queue(job.item);
    KEXPECT(queue->cancel_sync(job.item));
    KEXPECT(!queue->cancel_sync(job.item));
    gate.open_now();
    queue->flush();
    KEXPECT_EQ(job.runs.load(), 0u);
    delete queue;
}

void cancel_sync_waits_for_a_running_item()
{
    Job job;
    job.sleep_for_ns = 30 * ns_per_ms;
    WorkQueue::system().queue(job.item);
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!job.started.load() && uptime_ns() < deadline)
        sleep_ms(1);
    KEXPECT(job.started.load());
    KEXPECT(!WorkQueue::system().cancel_sync(job.item)); // running, not queued
    KEXPECT_EQ(job.runs.load(), 1u); // and finished by now
    KEXPECT_EQ(job.inside.load(), 0u);
}

// Two workers: an item queued again while it runs waits for the first run
// to end rather than running on the other worker at the same time.
void requeued_while_running_runs_again_not_concurrently()
{
    WorkQueue* queue = KMUST(WorkQueue::try_create("work-test", 2));
    Job job;
    job.sleep_for_ns = 20 * ns_per_ms;
    for (int round = 0; round < 3; ++round) {
        job.started.store(false);
        uint32_t before = job.runs.load();
        KEXPECT(queue->queue(job.item));
        uint64_t deadline = uptime_ns() + give_up_ns;
        while (!job.started.load() && uptime_ns() < deadline)
            sleep_ms(1);
        KEXPECT(queue->queue(job.item)); // not queued while it runs
        queue->flush();
        KEXPECT_EQ(job.runs.load(), before + 2);
    }
    KEXPECT(!job.overlapped.load());
    delete queue;
}

void flush_waits_for_everything_queued()
{
    constexpr size_t count = 8;
    Job jobs[count];
    for (auto& job : jobs) {
        job.sleep_for_ns = 2 * ns_per_ms;
        KEXPECT(WorkQueue::system().queue(job.item));
    }
    WorkQueue::system().flush();
    for (auto& job : jobs)
        KEXPECT_EQ(job.runs.load(), 1u);
}

struct FromTimer {
    Job job;
    kstd::atomic<bool> queued { false };
    Timer timer { on_timer, this };

    static void on_timer(void* argument)
    {
        auto& self = *static_cast<FromTimer*>(argument);
        self.queued.store(WorkQueue::system().queue(self.job.item));
    }
};

// The timer callback (interrupt context) hands over to a thread that sleeps.
void queue_from_a_timer_callback()
{
    FromTimer from;
    from.job.sleep_for_ns = 5 * ns_per_ms;
    uint64_t armed_ns = uptime_ns();
    from.timer.arm_after(20 * ns_per_ms);
    KEXPECT(wait_for(from.job.runs, 1));
    KEXPECT(from.queued.load());
    KEXPECT(from.job.thread_context.load());
    KEXPECT(from.job.ran_ns.load() >= armed_ns + 20 * ns_per_ms);
    from.timer.cancel();
    WorkQueue::system().flush();
}

struct Delayed {
    Job job;
    DelayedWork work { Job::run_job, &job };
};

void delayed_work_runs_after_its_delay()
{
    Delayed delayed;
    delayed.job.sleep_for_ns = 1 * ns_per_ms;
    uint64_t start = uptime_ns();
    delayed.work.queue_after(WorkQueue::system(), 30 * ns_per_ms);
    KEXPECT(wait_for(delayed.job.runs, 1));
    KEXPECT(delayed.job.ran_ns.load() >= start + 30 * ns_per_ms);
    KEXPECT(delayed.job.thread_context.load());
    KEXPECT(!delayed.work.cancel_sync());
    KEXPECT_EQ(delayed.job.runs.load(), 1u);
}

void delayed_work_cancelled_never_runs()
{
    Delayed delayed;
    delayed.work.queue_after(WorkQueue::system(), 30 * ns_per_ms);
    KEXPECT(delayed.work.cancel_sync());
    sleep_ms(80);
    KEXPECT_EQ(delayed.job.runs.load(), 0u);
}

} // namespace

SELFTEST_SUITE(sched_work_queue, CONFIG_WORK_QUEUE_SELFTEST, SELFTEST_CASE(items_run_in_thread_context_and_may_sleep),
    SELFTEST_CASE(queueing_twice_runs_once), SELFTEST_CASE(cancel_sync_of_a_queued_item),
    SELFTEST_CASE(cancel_sync_waits_for_a_running_item),
    SELFTEST_CASE(requeued_while_running_runs_again_not_concurrently), SELFTEST_CASE(flush_waits_for_everything_queued),
    SELFTEST_CASE(queue_from_a_timer_callback), SELFTEST_CASE(delayed_work_runs_after_its_delay),
    SELFTEST_CASE(delayed_work_cancelled_never_runs));

} // namespace tessera
