#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/panic.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/panic_race.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constinit kstd::atomic<bool> s_armed { false };
constinit kstd::atomic<bool> s_go { false };
constinit kstd::atomic<bool> s_panicking { false };

void panic_when_told(void*)
{
    while (!s_go.load())
        Scheduler::yield();
    s_panicking.store(true);
    panic("injected panic race (tessera.inject=panic-race)");
}

} // namespace

ErrorOr<void> panic_race_arm()
{
    if (arch::cpu_count() < 2)
        return Error(Errno::NODEV, "panic-race needs a second CPU");
    // A detached thread (its reference is dropped here), never joined: it
    // must outlive its case.
    (void)TRY(Thread::try_create("panic-race", panic_when_told, nullptr, 1));
    s_armed.store(true);
    return {};
}

void panic_race_before_success_exit()
{
    if (!s_armed.load())
        return;
    s_go.store(true);
    uint64_t deadline = uptime_ns() + 1000 * ns_per_ms;
    while (!s_panicking.load() && uptime_ns() < deadline)
        arch::relax();
}

} // namespace tessera
