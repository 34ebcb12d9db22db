// Selftests of multiprocessor bring-up and per-CPU state
// (arch/x86_64/include/arch/per_cpu.h, arch/x86_64/smp.cpp): every CPU the
// kernel counts is online with its own identity, pinned threads run where
// they are pinned and see their CPU's data through GS, every CPU's timer
// ticks, and a wake-up crosses CPUs.
//
// The kernel cannot learn QEMU's -smp value other than through the MADT it
// already used, so the CPU count is printed as a diagnostic for the runner.
// The cases about several CPUs skip on one CPU rather than pass vacuously.

#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint64_t give_up_ns = 5 * ns_per_second;

uint64_t ticks_of(size_t cpu) { return *static_cast<volatile uint64_t*>(&arch::cpu_local_at(cpu).timer_ticks); }

void every_cpu_online_with_distinct_apic_id()
{
    size_t count = arch::cpu_count();
    console_print("    # %zu CPUs online\n", count);
    KEXPECT(count >= 1);
    KEXPECT(count <= arch::max_cpus);
    for (size_t i = 0; i < count; ++i) {
        arch::PerCpu& cpu = arch::cpu_at(i);
        KEXPECT(cpu.local.online.load(kstd::memory_order_acquire));
        KEXPECT(cpu.self == &cpu);
        KEXPECT_EQ(cpu.local.index, i);
        KEXPECT(cpu.local.idle_thread != nullptr);
        KEXPECT(cpu.local.current_thread != nullptr);
        for (size_t j = 0; j < i; ++j)
            KEXPECT(cpu.apic_id != arch::cpu_at(j).apic_id);
    }
    // The slots past the count were never brought up.
    for (size_t i = count; i < arch::max_cpus; ++i)
        KEXPECT(!arch::cpu_local_at(i).online.load(kstd::memory_order_acquire));
}

struct Placement {
    uint64_t expected_thread_id;
    uint32_t pinned;
    kstd::atomic<bool> id_known { false };
    // Filled by the pinned thread.
    uint32_t samples;
    uint32_t wrong_index;
    uint32_t wrong_self;
    uint32_t wrong_gs_base;
    uint32_t wrong_apic_id;
    uint32_t wrong_thread;
};

// Samples its CPU identity several times, across yields and sleeps that
// take it off the CPU and back.
void check_placement(void* argument)
{
    auto& placement = *static_cast<Placement*>(argument);
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!placement.id_known.load() && uptime_ns() < deadline)
        Scheduler::yield();
    for (uint32_t round = 0; round < 6; ++round) {
        bool enabled = arch::save_and_disable_interrupts();
        arch::PerCpu& cpu = arch::this_cpu();
        auto* expected = &arch::cpu_at(placement.pinned);
        placement.wrong_index += cpu.local.index != placement.pinned;
        placement.wrong_self += cpu.self != &cpu || &cpu != expected;
        placement.wrong_gs_base += arch::read_msr(arch::msr::gs_base) != reinterpret_cast<uint64_t>(expected);
        placement.wrong_apic_id += arch::lapic_id() != expected->apic_id;
        placement.wrong_thread += cpu.local.current_thread->id() != placement.expected_thread_id;
        ++placement.samples;
        arch::restore_interrupts(enabled);
        if (round % 2 == 0)
            Scheduler::yield();
        else
            sleep_ms(1);
    }
}

constexpr const char* one_cpu = "only one CPU online";

void pinned_thread_runs_on_its_cpu()
{
    size_t count = arch::cpu_count();
    KSKIP_IF(count < 2, one_cpu);
    Placement placements[arch::max_cpus] {};
    RefPtr<Thread> threads[arch::max_cpus];
    for (size_t i = 0; i < count; ++i) {
        placements[i].pinned = static_cast<uint32_t>(i);
        auto thread = Thread::try_create("pinned", check_placement, &placements[i], static_cast<int>(i));
        KEXPECT(!thread.is_error());
        if (thread.is_error())
            continue;
        threads[i] = thread.value();
        placements[i].expected_thread_id = threads[i]->id();
        placements[i].id_known.store(true);
    }
    for (size_t i = 0; i < count; ++i) {
        if (threads[i].is_null())
            continue;
        threads[i]->join();
        const Placement& placement = placements[i];
        KEXPECT_EQ(placement.samples, 6u);
        KEXPECT_EQ(placement.wrong_index, 0u);
        KEXPECT_EQ(placement.wrong_self, 0u);
        KEXPECT_EQ(placement.wrong_gs_base, 0u);
        KEXPECT_EQ(placement.wrong_apic_id, 0u);
        KEXPECT_EQ(placement.wrong_thread, 0u);
    }
}

// Idle CPUs halt; their timer must still tick (and wake them).
void timer_ticks_advance_on_every_cpu()
{
    size_t count = arch::cpu_count();
    uint64_t before[arch::max_cpus] {};
    for (size_t i = 0; i < count; ++i)
        before[i] = ticks_of(i);
    sleep_ms(100);
    for (size_t i = 0; i < count; ++i) {
        uint64_t ticks = ticks_of(i) - before[i];
        if (ticks < 3 || ticks > 100)
            console_print("    # cpu %zu: %llu ticks in 100 ms\n", i, static_cast<unsigned long long>(ticks));
        KEXPECT(ticks >= 3);
        KEXPECT(ticks <= 100);
    }
}

// One waiter, one waker, on different CPUs. The flag and `aborted` are
// protected by the queue's lock.
struct Rendezvous {
    WaitQueue queue;
    bool flag { false };
    bool aborted { false };
    kstd::atomic<bool> waiting { false };
    kstd::atomic<bool> resumed { false };
    // Wake-ups the waker had to repeat because the first one was lost.
    uint32_t repeated_wakes { 0 };
    uint32_t waiter_cpu_before { 0 };
    uint32_t waiter_cpu_after { 0 };
    uint32_t waker_cpu { 0 };
    uint64_t woken_at_ns { 0 };
    uint64_t resumed_at_ns { 0 };
};

void wait_for_flag(void* argument)
{
    auto& rendezvous = *static_cast<Rendezvous*>(argument);
    rendezvous.waiter_cpu_before = arch::current_cpu_index();
    rendezvous.waiting.store(true);
    rendezvous.queue.wait_until([&] { return rendezvous.flag || rendezvous.aborted; });
    rendezvous.resumed_at_ns = uptime_ns();
    rendezvous.waiter_cpu_after = arch::current_cpu_index();
    rendezvous.resumed.store(true);
}

// Waits until the waiter is (very likely) blocked, then wakes it. Should
// the waiter not resume within a second, the wake-up was lost: wake again
// (counted), so that the case fails instead of hanging the run.
void set_flag(void* argument)
{
    auto& rendezvous = *static_cast<Rendezvous*>(argument);
    rendezvous.waker_cpu = arch::current_cpu_index();
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!rendezvous.waiting.load() && uptime_ns() < deadline)
        sleep_ms(1);
    sleep_ms(20);
    rendezvous.queue.change_and_wake_all([&] {
        rendezvous.flag = true;
        rendezvous.woken_at_ns = uptime_ns();
    });
    uint64_t retry_at = uptime_ns() + ns_per_second;
    while (!rendezvous.resumed.load() && uptime_ns() < deadline) {
        sleep_ms(5);
        if (uptime_ns() >= retry_at && !rendezvous.resumed.load()) {
            ++rendezvous.repeated_wakes;
            rendezvous.queue.wake_all();
            retry_at = uptime_ns() + ns_per_second;
        }
    }
}

void wake_across(uint32_t waiter_cpu, uint32_t waker_cpu)
{
    Rendezvous rendezvous;
    auto waiter = KMUST(Thread::try_create("waiter", wait_for_flag, &rendezvous, static_cast<int>(waiter_cpu)));
    auto waker = Thread::try_create("waker", set_flag, &rendezvous, static_cast<int>(waker_cpu));
    KEXPECT(!waker.is_error());
    if (waker.is_error())
        rendezvous.queue.change_and_wake_all([&] { rendezvous.aborted = true; });
    else
        waker.value()->join();
    waiter->join();
    KEXPECT(rendezvous.flag);
    KEXPECT_EQ(rendezvous.repeated_wakes, 0u);
    KEXPECT_EQ(rendezvous.waiter_cpu_before, waiter_cpu);
    KEXPECT_EQ(rendezvous.waiter_cpu_after, waiter_cpu);
    KEXPECT_EQ(rendezvous.waker_cpu, waker_cpu);
    uint64_t latency = rendezvous.resumed_at_ns - rendezvous.woken_at_ns;
    console_print("    # cpu %u woke cpu %u in %llu us\n", waker_cpu, waiter_cpu,
        static_cast<unsigned long long>(latency / 1000));
    KEXPECT(rendezvous.resumed_at_ns >= rendezvous.woken_at_ns);
    KEXPECT(latency < ns_per_second);
}

void cross_cpu_wakeup()
{
    KSKIP_IF(arch::cpu_count() < 2, one_cpu);
    wake_across(0, 1);
    wake_across(1, 0);
}

} // namespace

SELFTEST_SUITE(arch_smp, CONFIG_SMP_SELFTEST, SELFTEST_CASE(every_cpu_online_with_distinct_apic_id),
    SELFTEST_CASE(pinned_thread_runs_on_its_cpu), SELFTEST_CASE(timer_ticks_advance_on_every_cpu),
    SELFTEST_CASE(cross_cpu_wakeup));

} // namespace tessera
