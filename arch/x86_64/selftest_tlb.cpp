// Selftests of the TLB shootdown (arch/x86_64/include/arch/tlb.h): a page
// that CPU 1 has read, and so may hold in its TLB, faults on CPU 1 once CPU
// 0 has unmapped it; and two CPUs unmapping at the same time (each taking
// the other's IPI while it waits) both finish.

#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/memory/physical.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

// Pages of the MMIO window's top, below the paging selftest's scratch page:
// map_mmio() fills the window bottom-up and never gets here.
constexpr uint64_t scratch_base = MMIO_WINDOW_BASE + MMIO_WINDOW_SIZE - 16 * page_size;
constexpr uint64_t give_up_ns = 5 * ns_per_second;
constexpr uint64_t pattern = 0x7e55e7a7ee5ull;

struct StaleReader {
    uint64_t virtual_address;
    kstd::atomic<bool> cached { false };
    kstd::atomic<bool> unmapped { false };
    uint64_t value_read { 0 };
    uint32_t cpu { 0 };
    bool faulted_after_unmap { false };
    bool timed_out { false };
};

// On CPU 1: read the page (its TLB now holds the translation), wait without
// leaving the CPU or touching other memory much, then touch it again.
void read_spin_touch(void* argument)
{
    auto& reader = *static_cast<StaleReader*>(argument);
    reader.cpu = arch::current_cpu_index();
    reader.value_read = *reinterpret_cast<volatile uint64_t*>(reader.virtual_address);
    reader.cached.store(true, kstd::memory_order_release);
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!reader.unmapped.load(kstd::memory_order_acquire)) {
        if (uptime_ns() > deadline) {
            reader.timed_out = true;
            return;
        }
        arch::relax();
    }
    reader.faulted_after_unmap = !arch::probe_read(reinterpret_cast<volatile uint8_t*>(reader.virtual_address));
}

struct Unmapper {
    StaleReader* reader;
    bool unmapped { false };
    bool timed_out { false };
};

void unmap_when_cached(void* argument)
{
    auto& unmapper = *static_cast<Unmapper*>(argument);
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!unmapper.reader->cached.load(kstd::memory_order_acquire)) {
        if (uptime_ns() > deadline) {
            unmapper.timed_out = true;
            unmapper.reader->unmapped.store(true, kstd::memory_order_release);
            return;
        }
        Scheduler::yield();
    }
    unmapper.unmapped = !arch::unmap_page(unmapper.reader->virtual_address).is_error();
    unmapper.reader->unmapped.store(true, kstd::memory_order_release);
}

void unmap_on_cpu0_faults_on_cpu1()
{
    if (arch::cpu_count() < 2) {
        console_print("    # one CPU: nothing to shoot down\n");
        return;
    }
    uint64_t physical = KMUST(allocate_physical_page());
    *static_cast<volatile uint64_t*>(arch::physical_to_virtual(physical)) = pattern;
    StaleReader reader;
    reader.virtual_address = scratch_base;
    KMUST(arch::map_page(reader.virtual_address, physical, { .writable = true }));
    Unmapper unmapper { &reader };
    auto touch = KMUST(Thread::try_create("tlb-reader", read_spin_touch, &reader, 1));
    auto unmap = KMUST(Thread::try_create("tlb-unmapper", unmap_when_cached, &unmapper, 0));
    unmap->join();
    touch->join();
    KEXPECT(!reader.timed_out);
    KEXPECT(!unmapper.timed_out);
    KEXPECT_EQ(reader.cpu, 1u);
    KEXPECT_EQ(reader.value_read, pattern);
    KEXPECT(unmapper.unmapped);
    KEXPECT(!arch::is_mapped(reader.virtual_address));
    // The point: CPU 1 no longer reaches the page through a stale entry.
    KEXPECT(reader.faulted_after_unmap);
    if (!unmapper.unmapped)
        (void)arch::unmap_page(reader.virtual_address);
    KEXPECT(!free_physical_page(physical).is_error());
}

struct Churn {
    uint32_t cpu;
    uint64_t virtual_address;
    uint64_t physical;
    uint32_t rounds_done { 0 };
    uint32_t errors { 0 };
};

constexpr uint32_t churn_rounds = 50;

void map_touch_unmap(void* argument)
{
    auto& churn = *static_cast<Churn*>(argument);
    for (uint32_t round = 0; round < churn_rounds; ++round) {
        if (arch::map_page(churn.virtual_address, churn.physical, { .writable = true }).is_error()) {
            ++churn.errors;
            return;
        }
        *reinterpret_cast<volatile uint64_t*>(churn.virtual_address) = round;
        if (arch::unmap_page(churn.virtual_address).is_error())
            ++churn.errors;
        ++churn.rounds_done;
    }
}

// Both CPUs unmap at once, many times: neither may wait forever for the other.
void concurrent_shootdowns_finish()
{
    if (arch::cpu_count() < 2) {
        console_print("    # one CPU: nothing to shoot down\n");
        return;
    }
    uint64_t start = uptime_ns();
    Churn churns[2] = { { 0, scratch_base + page_size, KMUST(allocate_physical_page()) },
        { 1, scratch_base + 2 * page_size, KMUST(allocate_physical_page()) } };
    RefPtr<Thread> threads[2];
    for (size_t i = 0; i < 2; ++i)
        threads[i] = KMUST(Thread::try_create("tlb-churn", map_touch_unmap, &churns[i], static_cast<int>(i)));
    for (auto& thread : threads)
        thread->join();
    for (auto& churn : churns) {
        KEXPECT_EQ(churn.errors, 0u);
        KEXPECT_EQ(churn.rounds_done, churn_rounds);
        KEXPECT(!arch::is_mapped(churn.virtual_address));
        KEXPECT(!free_physical_page(churn.physical).is_error());
    }
    console_print("    # %u shootdowns from each of 2 CPUs in %llu ms\n", churn_rounds,
        static_cast<unsigned long long>((uptime_ns() - start) / 1000000));
}

} // namespace

SELFTEST_SUITE(arch_tlb, CONFIG_TLB_SELFTEST, SELFTEST_CASE(unmap_on_cpu0_faults_on_cpu1),
    SELFTEST_CASE(concurrent_shootdowns_finish));

} // namespace tessera
