#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/io.h>
#include <arch/paging.h>
#include <arch/x86_64/lib/counter_rate_estimator.h>
#include <arch/x86_64/lib/cpuid_frequency.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/time/clock.h>

namespace tessera::arch {

namespace {

// Register offsets. [intel/vol3]: table 11-1.
namespace reg {
constexpr uint32_t id = 0x20;
constexpr uint32_t task_priority = 0x80;
constexpr uint32_t end_of_interrupt = 0xb0;
constexpr uint32_t spurious = 0xf0;
constexpr uint32_t icr_low = 0x300;
constexpr uint32_t icr_high = 0x310;
constexpr uint32_t lvt_timer = 0x320;
constexpr uint32_t lvt_lint0 = 0x350;
constexpr uint32_t timer_initial = 0x380;
constexpr uint32_t timer_current = 0x390;
constexpr uint32_t timer_divide = 0x3e0;
} // namespace reg

constexpr uint32_t icr_delivery_pending = 1u << 12;
constexpr uint32_t lvt_masked = 1u << 16;
constexpr uint32_t lvt_periodic = 1u << 17;

constinit volatile uint32_t* s_registers = nullptr;

uint32_t read(uint32_t offset) { return s_registers[offset / 4]; }
void write(uint32_t offset, uint32_t value) { s_registers[offset / 4] = value; }

void wait_for_delivery()
{
    for (int spins = 0; spins < 1000000 && (read(reg::icr_low) & icr_delivery_pending); ++spins)
        relax();
}

void send_icr(uint32_t apic_id, uint32_t low)
{
    bool interrupts = save_and_disable_interrupts();
    write(reg::icr_high, apic_id << 24);
    write(reg::icr_low, low);
    wait_for_delivery();
    restore_interrupts(interrupts);
}

} // namespace

ErrorOr<void> lapic_initialize(uint64_t physical_address)
{
    auto mapped = TRY(map_mmio(physical_address, 4096));
    s_registers = static_cast<volatile uint32_t*>(mapped);
    return {};
}

void lapic_enable_on_this_cpu()
{
    write_msr(msr::apic_base, read_msr(msr::apic_base) | (1u << 11)); // global enable
    write(reg::task_priority, 0);
    write(reg::spurious, 0x100 | vector::spurious);
    write(reg::lvt_timer, lvt_masked);
    // Firmware leaves LINT0 in ExtINT mode for the 8259; nothing uses it.
    write(reg::lvt_lint0, lvt_masked);
}

uint32_t lapic_id() { return read(reg::id) >> 24; }
void lapic_end_of_interrupt() { write(reg::end_of_interrupt, 0); }

void lapic_send_ipi(uint32_t apic_id, uint8_t vector) { send_icr(apic_id, vector); }

// Delivery mode NMI (0b100), physical destination, edge. [intel/vol3]: 11.6.1.
// Before the LAPIC is mapped no other CPU runs, so there is no one to stop.
void lapic_send_nmi(uint32_t apic_id)
{
    if (s_registers != nullptr)
        send_icr(apic_id, 0x00000400);
}

void lapic_send_self_ipi(uint8_t vector)
{
    // Destination shorthand "self" (0b01 << 18), fixed delivery.
    send_icr(0, (1u << 18) | vector);
}

bool lapic_is_mapped() { return s_registers != nullptr; }

void lapic_send_init(uint32_t apic_id)
{
    send_icr(apic_id, 0x00004500); // INIT, assert, edge
}

void lapic_send_startup(uint32_t apic_id, uint8_t page_number)
{
    send_icr(apic_id, 0x00004600 | page_number); // STARTUP
}

namespace {

// rdtsc kept in place: lfence on both sides stops the CPU from moving it
// across the port or MMIO access it brackets, the clobber the compiler.
uint64_t read_tsc_in_order()
{
    uint32_t low = 0;
    uint32_t high = 0;
    asm volatile("lfence; rdtsc; lfence" : "=a"(low), "=d"(high)::"memory");
    return (static_cast<uint64_t>(high) << 32) | low;
}

// PIT channel 2 as a rate generator (mode 2) over its full period of 65536,
// gated on through port 0x61 with the speaker off, read by latching: the
// latch command freezes the count at the instant it is written, so the
// bracket around that one `out` is what matters. [8254 datasheet]: mode 2,
// counter latch command.
constexpr uint32_t pit_hz = 1193182;
void pit_start_free_running()
{
    uint8_t gate = in8(0x61);
    out8(0x61, static_cast<uint8_t>((gate & ~0x02) | 0x01)); // gate high, speaker off
    out8(0x43, 0xb4); // channel 2, lo/hi, mode 2, binary
    out8(0x42, 0);
    out8(0x42, 0); // 0 is 65536
}
void pit_stop() { out8(0x61, static_cast<uint8_t>(in8(0x61) & ~0x03)); }

// The LAPIC timer counts down from 0xffffffff once (minutes at any real
// rate), read at any time through its current-count register.
void lapic_timer_start_free_running()
{
    write(reg::lvt_timer, lvt_masked);
    write(reg::timer_initial, 0xffffffff);
}
CounterSample read_lapic_timer()
{
    uint64_t before = read_tsc_in_order();
    uint32_t count = read(reg::timer_current);
    return { before, read_tsc_in_order(), count };
}

// Both counters in one pass, sharing the middle TSC read.
struct TimerReads {
    CounterSample pit;
    CounterSample lapic;
};
TimerReads read_pit_and_lapic_timer()
{
    uint64_t before = read_tsc_in_order();
    out8(0x43, 0x80); // latch channel 2
    uint64_t latched = read_tsc_in_order();
    uint32_t lapic_count = read(reg::timer_current);
    uint64_t after = read_tsc_in_order();
    uint32_t low = in8(0x42);
    uint32_t high = in8(0x42);
    return { { before, latched, low | (high << 8) }, { latched, after, lapic_count } };
}

// Good enough at 200 ppm (17 s a day) over at least 1 ms; a result worse
// than 0.5% is refused. The bound is mostly the PIT's one-tick quantization,
// so on a quiet machine 200 ppm takes about 5 ms of reads.
constexpr CounterLimits pit_limits { 65536, true, 200, pit_hz / 1000, 5000 };
constexpr CounterLimits lapic_limits { 1ull << 32, true, 200, 1000, 5000 };
// Reads stop after 50 ms of PIT time whatever the bound, and after 1e9 TSC
// cycles (0.1 s at the fastest TSC there is) in case the PIT never moves.
constexpr uint64_t longest_pit_ticks = pit_hz / 20;
constexpr uint64_t longest_tsc_cycles = 1'000'000'000ull;

uint64_t mul_div(uint64_t a, uint64_t b, uint64_t divisor)
{
    return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b / (divisor != 0 ? divisor : 1));
}

uint64_t microseconds_since(uint64_t started, uint64_t tsc_hz)
{
    return mul_div(read_tsc_in_order() - started, 1000000, tsc_hz);
}

TimerCalibration calibrate_against_pit()
{
    uint64_t started = read_tsc_in_order();
    pit_start_free_running();
    lapic_timer_start_free_running();
    CounterRateEstimator pit(pit_limits);
    CounterRateEstimator lapic(lapic_limits);
    for (;;) {
        TimerReads reads = read_pit_and_lapic_timer();
        pit.add(reads.pit);
        lapic.add(reads.lapic);
        if (pit.good_enough() && lapic.good_enough())
            break;
        if (pit.ticks_elapsed() >= longest_pit_ticks || reads.lapic.tsc_after - started >= longest_tsc_cycles)
            break;
    }
    pit_stop();
    write(reg::timer_initial, 0);
    auto pit_rate = pit.result();
    if (pit_rate.is_error())
        panic("timer calibration: PIT channel 2: %s (no PIT?), and CPUID states no TSC frequency",
            pit_rate.error().what());
    auto lapic_rate = lapic.result();
    if (lapic_rate.is_error())
        panic("timer calibration: LAPIC timer: %s", lapic_rate.error().what());
    uint64_t tsc_hz = mul_div(pit_rate.value().tsc_cycles, pit_hz, pit_rate.value().counter_ticks);
    uint64_t lapic_hz = mul_div(lapic_rate.value().counter_ticks, tsc_hz, lapic_rate.value().tsc_cycles);
    infoln("timer calibration: against the PIT in %llu us: tsc +-%u ppm (%zu reads, %zu restarts), lapic timer "
           "+-%u ppm",
        static_cast<unsigned long long>(microseconds_since(started, tsc_hz)), pit_rate.value().error_ppm, pit.samples(),
        pit.restarts(), lapic_rate.value().error_ppm);
    return { lapic_hz, tsc_hz };
}

// With the TSC rate stated, only the LAPIC timer is measured, against the TSC.
uint64_t lapic_timer_hz_against_tsc(uint64_t tsc_hz)
{
    uint64_t started = read_tsc_in_order();
    lapic_timer_start_free_running();
    CounterRateEstimator lapic(lapic_limits);
    uint64_t deadline = tsc_hz / 20; // 50 ms
    for (;;) {
        CounterSample sample = read_lapic_timer();
        lapic.add(sample);
        if (lapic.good_enough() || sample.tsc_after - started >= deadline)
            break;
    }
    write(reg::timer_initial, 0);
    auto rate = lapic.result();
    if (rate.is_error())
        panic("timer calibration: LAPIC timer: %s", rate.error().what());
    uint64_t lapic_hz = mul_div(rate.value().counter_ticks, tsc_hz, rate.value().tsc_cycles);
    infoln("timer calibration: lapic timer against the stated TSC rate in %llu us: +-%u ppm (%zu reads)",
        static_cast<unsigned long long>(microseconds_since(started, tsc_hz)), rate.value().error_ppm, lapic.samples());
    return lapic_hz;
}

CpuidLeaf leaf(uint32_t number)
{
    auto r = cpuid(number);
    return { r.eax, r.ebx, r.ecx, r.edx };
}

FrequencyLeaves read_frequency_leaves()
{
    FrequencyLeaves leaves {};
    leaves.max_leaf = cpuid(0).eax;
    if (leaves.max_leaf >= 0x15)
        leaves.leaf_15 = leaf(0x15);
    if (leaves.max_leaf >= 0x16)
        leaves.leaf_16 = leaf(0x16);
    // CPUID.1:ECX bit 31: running under a hypervisor, whose leaves start at 0x40000000.
    if (leaves.max_leaf >= 1 && (cpuid(1).ecx & (1u << 31)) != 0) {
        leaves.hypervisor = leaf(0x40000000);
        if (leaves.hypervisor.eax >= 0x40000010 && leaves.hypervisor.eax < 0x40010000)
            leaves.hypervisor_timing = leaf(0x40000010);
    }
    return leaves;
}

} // namespace

// What CPUID states first (no measurement at all); the PIT only if it
// states nothing. QEMU TCG states nothing (max leaf 0xd, hypervisor leaves
// only to 0x40000001), so emulated boots take the PIT path.
TimerCalibration lapic_calibrate_timer()
{
    write(reg::timer_divide, 0x3); // divide by 16
    StatedFrequencies stated = frequencies_from_cpuid(read_frequency_leaves());
    if (stated.tsc_hz != 0 && stated.lapic_timer_hz != 0)
        return { stated.lapic_timer_hz / 16, stated.tsc_hz };
    if (stated.tsc_hz != 0)
        return { lapic_timer_hz_against_tsc(stated.tsc_hz), stated.tsc_hz };
    return calibrate_against_pit();
}

void lapic_timer_start_periodic(uint64_t lapic_timer_hz, uint32_t frequency_hz)
{
    write(reg::timer_divide, 0x3);
    write(reg::lvt_timer, lvt_periodic | vector::timer);
    uint64_t count = lapic_timer_hz / frequency_hz;
    write(reg::timer_initial, static_cast<uint32_t>(count != 0 ? count : 1));
}

void disable_legacy_pic()
{
    // Remap to vectors 0xe0-0xef (unused) first so a stray interrupt cannot
    // look like an exception or the timer, then mask everything. [8259A datasheet]: ICW1-ICW4.
    out8(0x20, 0x11);
    out8(0xa0, 0x11);
    out8(0x21, 0xe0);
    out8(0xa1, 0xe8);
    out8(0x21, 0x04);
    out8(0xa1, 0x02);
    out8(0x21, 0x01);
    out8(0xa1, 0x01);
    out8(0x21, 0xff);
    out8(0xa1, 0xff);
}

void busy_wait_us(uint64_t microseconds)
{
    uint64_t hz = tsc_frequency();
    if (hz == 0)
        hz = 3000000000ull; // before calibration: assume a fast TSC (waits longer on slow ones)
    uint64_t end = read_tsc() + hz / 1000000 * microseconds;
    while (read_tsc() < end)
        relax();
}

} // namespace tessera::arch
