// Selftests of timers with callbacks (kernel/time/timer.h): one-shot and
// periodic expiry, never early (measured with the TSC clock), cancel before
// expiry, from the callback itself and against a callback running on
// another CPU, arming from a thread pinned to each CPU, and many timers at
// once. Bounds on lateness are generous: TCG runs the guest slowly and its
// timers fire late under load; earliness is never allowed.

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/locking/lock_rank.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>
#include <kernel/time/timer.h>

namespace tessera {

namespace {

constexpr uint64_t give_up_ns = 3 * ns_per_second;

struct Firing {
    kstd::atomic<uint32_t> count { 0 };
    kstd::atomic<uint64_t> first_ns { 0 };
    kstd::atomic<uint64_t> last_ns { 0 };
    kstd::atomic<uint32_t> cpu { 0 };
    kstd::atomic<bool> interrupt_context_ok { true };
};

void record_firing(void* argument)
{
    auto& firing = *static_cast<Firing*>(argument);
    uint64_t now = uptime_ns();
    if (firing.count.load() == 0)
        firing.first_ns.store(now);
    firing.last_ns.store(now);
    firing.cpu.store(arch::this_cpu_local().index);
    // Documented context: interrupts off, no lock held.
    if (arch::interrupts_enabled() || arch::this_cpu_local().held_lock_ranks != 0)
        firing.interrupt_context_ok.store(false);
    firing.count.fetch_add(1);
}

// Sleeps until `count` reaches `target` or give_up_ns has passed.
bool wait_for_count(const kstd::atomic<uint32_t>& count, uint32_t target)
{
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (count.load() < target && uptime_ns() < deadline)
        sleep_ms(1);
    return count.load() >= target;
}

void one_shot_fires_once_not_early()
{
    Firing firing;
    Timer timer(record_firing, &firing);
    KEXPECT(!timer.is_armed());
    uint64_t armed_ns = uptime_ns();
    timer.arm_after(30 * ns_per_ms);
    KEXPECT(timer.is_armed());
    KEXPECT(wait_for_count(firing.count, 1));
    sleep_ms(60); // a second firing would show here
    console_print("    # fired %llu us after arming for 30000 us\n",
        static_cast<unsigned long long>((firing.first_ns.load() - armed_ns) / 1000));
    KEXPECT_EQ(firing.count.load(), 1u);
    KEXPECT(firing.first_ns.load() >= armed_ns + 30 * ns_per_ms);
    KEXPECT(firing.interrupt_context_ok.load());
    KEXPECT(!timer.is_armed());
    KEXPECT(!timer.cancel()); // nothing left to cancel
}

struct Periodic {
    Timer* timer { nullptr };
    uint32_t stop_after { 0 };
    uint64_t fired_ns[8] {};
    kstd::atomic<uint32_t> count { 0 };
    kstd::atomic<bool> cancel_returned { false };
};

// Stops its own timer from inside the callback after `stop_after` runs.
void periodic_tick(void* argument)
{
    auto& periodic = *static_cast<Periodic*>(argument);
    uint32_t n = periodic.count.load();
    if (n < 8)
        periodic.fired_ns[n] = uptime_ns();
    if (n + 1 == periodic.stop_after) {
        periodic.timer->cancel(); // must not wait for itself
        periodic.cancel_returned.store(true);
    }
    periodic.count.fetch_add(1);
}

void periodic_fires_n_times_and_cancels_itself()
{
    constexpr uint64_t period = 20 * ns_per_ms;
    Periodic periodic;
    Timer timer(periodic_tick, &periodic);
    periodic.timer = &timer;
    periodic.stop_after = 5;
    uint64_t start = uptime_ns();
    timer.arm_periodic(period);
    KEXPECT(wait_for_count(periodic.count, 5));
    sleep_ms(80); // four more periods: none may fire
    KEXPECT_EQ(periodic.count.load(), 5u);
    KEXPECT(periodic.cancel_returned.load());
    KEXPECT(!timer.is_armed());
    // The k-th run is never before start + k periods (deadlines do not drift
    // earlier) and runs are in order.
    for (uint32_t k = 0; k < 5; ++k) {
        KEXPECT(periodic.fired_ns[k] >= start + (k + 1) * period);
        if (k > 0)
            KEXPECT(periodic.fired_ns[k] > periodic.fired_ns[k - 1]);
    }
    console_print("    # 5 periods of 20 ms took %llu us\n",
        static_cast<unsigned long long>((periodic.fired_ns[4] - start) / 1000));
}

void cancel_before_expiry_never_fires()
{
    Firing firing;
    Timer one_shot(record_firing, &firing);
    Timer periodic(record_firing, &firing);
    one_shot.arm_after(40 * ns_per_ms);
    periodic.arm_periodic(40 * ns_per_ms);
    KEXPECT(one_shot.cancel());
    KEXPECT(periodic.cancel());
    KEXPECT(!one_shot.is_armed());
    sleep_ms(120);
    KEXPECT_EQ(firing.count.load(), 0u);
    // A cancelled timer can be armed again, and re-arming moves the deadline.
    uint64_t armed_ns = uptime_ns();
    one_shot.arm_after(10 * ns_per_second);
    one_shot.arm_after(20 * ns_per_ms);
    KEXPECT(wait_for_count(firing.count, 1));
    KEXPECT(firing.first_ns.load() >= armed_ns + 20 * ns_per_ms);
    KEXPECT(firing.first_ns.load() < armed_ns + 5 * ns_per_second);
}

struct SlowCallback {
    kstd::atomic<bool> started { false };
    kstd::atomic<bool> finished { false };
    kstd::atomic<uint32_t> cpu { 0 };
};

// Spins 30 ms in interrupt context, so a cancel() from another CPU lands
// while it runs.
void slow_callback(void* argument)
{
    auto& slow = *static_cast<SlowCallback*>(argument);
    slow.cpu.store(arch::this_cpu_local().index);
    slow.started.store(true);
    uint64_t until = uptime_ns() + 30 * ns_per_ms;
    while (uptime_ns() < until)
        arch::relax();
    slow.finished.store(true);
}

// cancel() returns only once the callback has finished. With one CPU the
// callback interrupts this thread and is over before it resumes; with
// several, cancel() must wait for it.
void cancel_waits_for_a_running_callback()
{
    size_t cross_cpu = 0;
    for (int round = 0; round < 4; ++round) {
        SlowCallback slow;
        Timer timer(slow_callback, &slow);
        timer.arm_after(5 * ns_per_ms);
        uint64_t deadline = uptime_ns() + give_up_ns;
        while (!slow.started.load() && uptime_ns() < deadline)
            arch::relax();
        KEXPECT(slow.started.load());
        bool armed = timer.cancel();
        KEXPECT(slow.finished.load());
        KEXPECT(!armed);
        if (slow.cpu.load() != arch::current_cpu_index())
            ++cross_cpu;
    }
    console_print("    # %zu of 4 callbacks ran on another CPU than the canceller\n", cross_cpu);
}

void entry_copy(Firing& to, const Firing& from)
{
    to.count.store(from.count.load());
    to.first_ns.store(from.first_ns.load());
    to.last_ns.store(from.last_ns.load());
    to.cpu.store(from.cpu.load());
    to.interrupt_context_ok.store(from.interrupt_context_ok.load());
}

// A timer and what its callback saw, so arrays of timers need no initializers.
struct TimedFiring {
    Firing firing;
    Timer timer { record_firing, &firing };
};

struct ArmFromCpu {
    int cpu;
    uint32_t armed_on { 0 };
    Firing firings[8];
    uint64_t armed_ns { 0 };
    bool all_fired { false };
};

// A thread pinned to `cpu` arms eight timers 10..80 ms out and waits for
// them; they may expire on any CPU.
void arm_on_pinned_cpu(void* argument)
{
    auto& run = *static_cast<ArmFromCpu*>(argument);
    run.armed_on = arch::current_cpu_index();
    TimedFiring timed[8];
    run.armed_ns = uptime_ns();
    // Armed in reverse deadline order, so each lands ahead of the last.
    for (int i = 7; i >= 0; --i)
        timed[i].timer.arm_after(static_cast<uint64_t>(i + 1) * 10 * ns_per_ms);
    run.all_fired = true;
    for (auto& entry : timed)
        run.all_fired = wait_for_count(entry.firing.count, 1) && run.all_fired;
    for (int i = 0; i < 8; ++i) {
        entry_copy(run.firings[i], timed[i].firing);
        timed[i].timer.cancel();
    }
}

void check_armed_from(int cpu)
{
    ArmFromCpu run;
    run.cpu = cpu;
    auto thread = KMUST(Thread::try_create("timer-armer", arm_on_pinned_cpu, &run, cpu));
    thread->join();
    KEXPECT_EQ(run.armed_on, static_cast<uint32_t>(cpu));
    KEXPECT(run.all_fired);
    uint64_t on_cpu_mask = 0;
    for (int i = 0; i < 8; ++i) {
        KEXPECT_EQ(run.firings[i].count.load(), 1u);
        KEXPECT(run.firings[i].first_ns.load() >= run.armed_ns + static_cast<uint64_t>(i + 1) * 10 * ns_per_ms);
        KEXPECT(run.firings[i].interrupt_context_ok.load());
        on_cpu_mask |= 1ull << run.firings[i].cpu.load();
    }
    console_print(
        "    # armed on cpu %d, expired on cpu mask %#llx\n", cpu, static_cast<unsigned long long>(on_cpu_mask));
}

void armed_on_cpu0_expire_on_any_cpu() { check_armed_from(0); }

void armed_on_the_last_cpu() { check_armed_from(static_cast<int>(arch::cpu_count() - 1)); }

struct CrossCancel {
    Timer* timer;
    kstd::atomic<bool> armed { false };
};

// Arming on one CPU and cancelling from another: the timer never fires.
void cancel_from_another_cpu()
{
    Firing firing;
    Timer timer(record_firing, &firing);
    CrossCancel cross { &timer };
    int last = static_cast<int>(arch::cpu_count() - 1);
    auto armer = KMUST(Thread::try_create(
        "timer-armer",
        [](void* argument) {
            auto& cross = *static_cast<CrossCancel*>(argument);
            // A second out: the join below must not outlast it even when
            // the host deschedules our vCPUs (50 ms did, under load).
            cross.timer->arm_after(ns_per_second);
            cross.armed.store(true);
        },
        &cross, last));
    uint64_t deadline = uptime_ns() + ns_per_second;
    armer->join();
    KEXPECT(cross.armed.load());
    KEXPECT(timer.cancel());
    // Past the deadline: a cancelled timer must not fire.
    while (uptime_ns() < deadline + 50 * ns_per_ms)
        sleep_ms(20);
    KEXPECT_EQ(firing.count.load(), 0u);
}

// Many timers with scattered deadlines, some moved and some cancelled,
// past one turn of the wheel (about a second): each armed one fires once,
// never early.
void many_timers_scattered_deadlines()
{
    constexpr size_t count = 24;
    TimedFiring timed[count];
    uint64_t deadlines[count] {};
    uint64_t now = uptime_ns();
    for (size_t i = 0; i < count; ++i) {
        // A scrambled order; three land past one turn of the wheel.
        uint64_t offset_ms = (i * 37) % 97 + 5 + (i % 8 == 0 ? 1030 : 0);
        deadlines[i] = now + offset_ms * ns_per_ms;
        timed[i].timer.arm_at(deadlines[i]);
    }
    for (size_t i = 0; i < count; i += 5)
        timed[i].timer.cancel();
    for (size_t i = 0; i < count; ++i) {
        if (i % 5 != 0)
            KEXPECT(wait_for_count(timed[i].firing.count, 1));
    }
    sleep_ms(30);
    for (size_t i = 0; i < count; ++i) {
        KEXPECT_EQ(timed[i].firing.count.load(), i % 5 == 0 ? 0u : 1u);
        if (i % 5 != 0)
            KEXPECT(timed[i].firing.first_ns.load() >= deadlines[i]);
        timed[i].timer.cancel();
    }
}

// "As late as possible" must not wrap around to "now": uptime plus a huge
// delay saturates instead of overflowing (deadline_after_ns(), which the
// waits, sleeps and mutex timeouts use too).
void huge_delays_do_not_wrap()
{
    kstd::atomic<bool> fired { false };
    Timer timer([](void* flag) { static_cast<kstd::atomic<bool>*>(flag)->store(true); }, &fired);
    timer.arm_after(~0ull);
    sleep_ms(30);
    KEXPECT(!fired.load());
    KEXPECT(timer.cancel());
    KEXPECT_EQ(deadline_after_ns(~0ull), ~0ull);
    uint64_t before = uptime_ns();
    KEXPECT(deadline_after_ns(ns_per_second) >= before + ns_per_second);
}

} // namespace

SELFTEST_SUITE(time_timers, CONFIG_TIMERS_SELFTEST, SELFTEST_CASE(one_shot_fires_once_not_early),
    SELFTEST_CASE(periodic_fires_n_times_and_cancels_itself), SELFTEST_CASE(cancel_before_expiry_never_fires),
    SELFTEST_CASE(cancel_waits_for_a_running_callback), SELFTEST_CASE(armed_on_cpu0_expire_on_any_cpu),
    SELFTEST_CASE(armed_on_the_last_cpu), SELFTEST_CASE(cancel_from_another_cpu),
    SELFTEST_CASE(many_timers_scattered_deadlines), SELFTEST_CASE(huge_delays_do_not_wrap));

} // namespace tessera
