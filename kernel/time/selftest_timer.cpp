// Selftests of time keeping: the TSC calibration behind uptime_ns()
// (kernel/time/clock.h), the periodic LAPIC timer tick, and sleeping.
// Bounds are generous because QEMU's TCG runs the guest at a fraction of
// real speed and its virtual timers fire late under load; what must hold
// exactly is only the direction (never early, never backwards).

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint64_t ns_per_us = 1000;
// Upper bound for anything that should take a few milliseconds, under TCG.
constexpr uint64_t slow_bound_ns = 2 * ns_per_second;

uint64_t ticks_of(size_t cpu)
{
    // Written by the timer interrupt on that CPU; read once per call.
    return *static_cast<volatile uint64_t*>(&arch::cpu_local_at(cpu).timer_ticks);
}

void tsc_frequency_calibrated()
{
    uint64_t hz = tsc_frequency();
    console_print("    # tsc %llu kHz\n", static_cast<unsigned long long>(hz / 1000));
    KEXPECT(hz >= 100'000'000ull);
    KEXPECT(hz <= 10'000'000'000ull);
    // One second of cycles is one second.
    KEXPECT_EQ(tsc_to_ns(hz), ns_per_second);
    KEXPECT_EQ(tsc_to_ns(0), 0u);
    // uptime is the TSC since kernel_main, scaled.
    uint64_t before = uptime_ns();
    uint64_t from_tsc = tsc_to_ns(arch::read_tsc() - tsc_at_boot());
    uint64_t after = uptime_ns();
    KEXPECT(before > 0);
    KEXPECT(from_tsc >= before && from_tsc <= after);
}

// Successive readings never go back, also across yields that may move the
// thread to another CPU, and time does pass.
void uptime_monotonic()
{
    uint64_t start = uptime_ns();
    uint64_t previous = start;
    bool backwards = false;
    size_t readings = 0;
    while (previous - start < 20 * ns_per_ms && readings < 10'000'000) {
        uint64_t now = uptime_ns();
        if (now < previous)
            backwards = true;
        previous = now;
        if (++readings % 1000 == 0)
            Scheduler::yield();
    }
    KEXPECT(!backwards);
    KEXPECT(previous - start >= 20 * ns_per_ms);
    KEXPECT(readings > 1);
}

struct TickSample {
    uint32_t cpu;
    uint32_t ran_on;
    uint64_t spinning_ticks;
    uint64_t sleeping_ticks;
};

// Spins 100 ms without yielding (the tick must interrupt the spin), then
// sleeps 100 ms (the tick must wake the halted CPU).
void count_ticks(void* argument)
{
    auto& sample = *static_cast<TickSample*>(argument);
    sample.ran_on = arch::current_cpu_index();
    uint64_t before = ticks_of(sample.cpu);
    uint64_t deadline = uptime_ns() + 100 * ns_per_ms;
    while (uptime_ns() < deadline)
        arch::relax();
    uint64_t middle = ticks_of(sample.cpu);
    sleep_ms(100);
    sample.spinning_ticks = middle - before;
    sample.sleeping_ticks = ticks_of(sample.cpu) - middle;
}

void timer_ticks_advance_on_this_cpu()
{
    TickSample sample { arch::current_cpu_index(), 0, 0, 0 };
    auto thread = KMUST(Thread::try_create("ticks", count_ticks, &sample, static_cast<int>(sample.cpu)));
    thread->join();
    console_print("    # cpu %u: %llu ticks spinning, %llu sleeping (100 ms each)\n", sample.cpu,
        static_cast<unsigned long long>(sample.spinning_ticks), static_cast<unsigned long long>(sample.sleeping_ticks));
    KEXPECT_EQ(sample.ran_on, sample.cpu);
    // 100 Hz gives 10 per window; late TCG timers give fewer, but not none.
    KEXPECT(sample.spinning_ticks >= 3);
    KEXPECT(sample.spinning_ticks <= 100);
    KEXPECT(sample.sleeping_ticks >= 3);
    KEXPECT(sample.sleeping_ticks <= 100);
}

void sleep_ms_duration()
{
    uint64_t start = uptime_ns();
    sleep_ms(50);
    uint64_t slept = uptime_ns() - start;
    console_print("    # sleep_ms(50) took %llu us\n", static_cast<unsigned long long>(slept / ns_per_us));
    KEXPECT(slept >= 50 * ns_per_ms);
    KEXPECT(slept < slow_bound_ns);

    start = uptime_ns();
    sleep_ns(1 * ns_per_ms);
    slept = uptime_ns() - start;
    KEXPECT(slept >= 1 * ns_per_ms);
    KEXPECT(slept < slow_bound_ns);

    start = uptime_ns();
    sleep_ms(0);
    KEXPECT(uptime_ns() - start < slow_bound_ns);
}

struct Sleeper {
    uint64_t duration_ns;
    uint64_t started_ns;
    uint64_t woke_ns;
};

void sleep_and_record(void* argument)
{
    auto& sleeper = *static_cast<Sleeper*>(argument);
    sleeper.started_ns = uptime_ns();
    sleep_ns(sleeper.duration_ns);
    sleeper.woke_ns = uptime_ns();
}

// Sleepers queued out of deadline order each sleep their own time, and
// wake in deadline order (deadlines 40 ms apart, four ticks).
void concurrent_sleepers_wake_in_order()
{
    constexpr size_t count = 4;
    Sleeper sleepers[count] {};
    RefPtr<Thread> threads[count];
    for (size_t i = 0; i < count; ++i)
        sleepers[i].duration_ns = (140 - 40 * i) * ns_per_ms;
    for (size_t i = 0; i < count; ++i) {
        auto thread = Thread::try_create("sleeper", sleep_and_record, &sleepers[i]);
        KEXPECT(!thread.is_error());
        if (!thread.is_error())
            threads[i] = thread.value();
    }
    for (auto& thread : threads) {
        if (thread)
            thread->join();
    }
    for (size_t i = 0; i < count; ++i) {
        if (threads[i].is_null())
            continue;
        uint64_t slept = sleepers[i].woke_ns - sleepers[i].started_ns;
        KEXPECT(slept >= sleepers[i].duration_ns);
        KEXPECT(slept < sleepers[i].duration_ns + slow_bound_ns);
        if (i > 0 && !threads[i - 1].is_null())
            KEXPECT(sleepers[i].woke_ns < sleepers[i - 1].woke_ns);
    }
}

// Two marks 1.5 s apart in guest time, for the host: tools/check.py stamps
// each serial line with host time as it arrives and fails the boot if the
// guest's elapsed time strays from the host's. Every check above measures
// the TSC against itself, so a wrong calibration would pass them all.
// Each mark is one console_print, so it reaches the host as one line.
void clock_marks_for_the_host()
{
    uint64_t first = uptime_ns();
    console_print("    # clock-mark 0 uptime_ns=%llu\n", static_cast<unsigned long long>(first));
    sleep_ms(1500);
    uint64_t second = uptime_ns();
    console_print("    # clock-mark 1 uptime_ns=%llu\n", static_cast<unsigned long long>(second));
    KEXPECT(second - first >= 1500 * ns_per_ms);
    KEXPECT(second - first < 1500 * ns_per_ms + slow_bound_ns);
}

} // namespace

SELFTEST_SUITE(time_timer, CONFIG_TIMER_SELFTEST, SELFTEST_CASE(tsc_frequency_calibrated),
    SELFTEST_CASE(uptime_monotonic), SELFTEST_CASE(timer_ticks_advance_on_this_cpu), SELFTEST_CASE(sleep_ms_duration),
    SELFTEST_CASE(concurrent_sleepers_wake_in_order), SELFTEST_CASE(clock_marks_for_the_host));

} // namespace tessera
