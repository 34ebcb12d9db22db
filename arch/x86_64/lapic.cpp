#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/io.h>
#include <arch/paging.h>
#include <arch/x86_64/lib/cpuid_frequency.h>
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

// PIT channel 2, gated through port 0x61, counts down once; the output
// bit (0x61 bit 5) rises at terminal count. [8254 datasheet]: mode 0.
constexpr uint32_t pit_hz = 1193182;
void pit_start_one_shot(uint16_t count)
{
    uint8_t gate = in8(0x61);
    out8(0x61, static_cast<uint8_t>((gate & ~0x02) & ~0x01)); // gate low, speaker off
    out8(0x43, 0xb0); // channel 2, lo/hi, mode 0, binary
    out8(0x42, static_cast<uint8_t>(count));
    out8(0x42, static_cast<uint8_t>(count >> 8));
    out8(0x61, static_cast<uint8_t>((gate & ~0x02) | 0x01)); // gate high: start
}
bool pit_done() { return (in8(0x61) & 0x20) != 0; }

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

struct Sample {
    uint64_t tsc_elapsed;
    uint32_t lapic_elapsed;
    uint64_t uncertainty; // TSC cycles in which the start or end could lie
    bool timed_out;
};

// No TSC runs faster than this; it bounds the PIT wait before calibration.
constexpr uint64_t fastest_tsc_hz = 10'000'000'000ull;

// One PIT window. Every PIT access is bracketed by TSC reads, so a window
// in which the vCPU was descheduled (common under emulation on a busy
// host) shows up as a large uncertainty and is discarded. The wait is
// bounded: a machine without a PIT must not hang here.
Sample measure_window(uint32_t window_ms)
{
    uint64_t limit = fastest_tsc_hz / 1000 * window_ms * 4;
    write(reg::lvt_timer, lvt_masked);
    uint64_t before_start = read_tsc();
    pit_start_one_shot(static_cast<uint16_t>(pit_hz * window_ms / 1000));
    write(reg::timer_initial, 0xffffffff);
    uint64_t after_start = read_tsc();
    uint64_t last_not_done = after_start;
    uint64_t end = 0;
    for (;;) {
        bool done = pit_done();
        uint64_t now = read_tsc();
        if (done) {
            end = now;
            break;
        }
        if (now - after_start > limit) {
            write(reg::timer_initial, 0);
            return { 0, 0, 0, true };
        }
        last_not_done = now;
    }
    uint32_t lapic_elapsed = 0xffffffff - read(reg::timer_current);
    write(reg::timer_initial, 0);
    return { end - after_start, lapic_elapsed, (after_start - before_start) + (end - last_not_done), false };
}

bool agree(const Sample& a, const Sample& b)
{
    uint64_t difference = a.tsc_elapsed > b.tsc_elapsed ? a.tsc_elapsed - b.tsc_elapsed : b.tsc_elapsed - a.tsc_elapsed;
    return difference * 1000 < a.tsc_elapsed; // within 0.1%
}

TimerCalibration rates_of(const Sample& sample, uint32_t window_ms)
{
    return { static_cast<uint64_t>(sample.lapic_elapsed) * 1000 / window_ms, sample.tsc_elapsed * 1000 / window_ms };
}

TimerCalibration calibrate_against_pit()
{
    // 5 ms windows until two trustworthy ones (edges known to 0.2%) agree
    // to 0.1%; at most twelve. A window only ever comes out too long (QEMU
    // TCG on a busy host shows the PIT's terminal count up to ~10 ms late
    // while the TSC and LAPIC agree), so agreeing windows are the true
    // length, and otherwise the shortest trustworthy one is closest. On a
    // quiet machine this takes 10 ms instead of seven 10 ms windows.
    constexpr uint32_t window_ms = 5;
    constexpr size_t max_windows = 12;
    Sample trusted[max_windows];
    size_t kept = 0;
    Sample least_uncertain {};
    for (size_t i = 0; i < max_windows; ++i) {
        Sample sample = measure_window(window_ms);
        if (sample.timed_out)
            panic("timer calibration: PIT channel 2 never counted down (no PIT?), and CPUID states no TSC "
                  "frequency");
        // uncertainty/elapsed smallest, compared without division.
        if (i == 0
            || sample.uncertainty * least_uncertain.tsc_elapsed < least_uncertain.uncertainty * sample.tsc_elapsed)
            least_uncertain = sample;
        if (sample.uncertainty * 500 >= sample.tsc_elapsed)
            continue;
        for (size_t j = 0; j < kept; ++j) {
            if (agree(sample, trusted[j]))
                return rates_of(sample.tsc_elapsed < trusted[j].tsc_elapsed ? sample : trusted[j], window_ms);
        }
        trusted[kept++] = sample;
    }
    if (kept == 0)
        return rates_of(least_uncertain, window_ms);
    const Sample* shortest = &trusted[0];
    for (size_t j = 1; j < kept; ++j) {
        if (trusted[j].tsc_elapsed < shortest->tsc_elapsed)
            shortest = &trusted[j];
    }
    return rates_of(*shortest, window_ms);
}

// With the TSC rate known, the LAPIC timer is timed against the TSC over 2 ms.
uint64_t lapic_timer_hz_against_tsc(uint64_t tsc_hz)
{
    write(reg::lvt_timer, lvt_masked);
    write(reg::timer_initial, 0xffffffff);
    uint64_t start = read_tsc();
    uint64_t end = start + tsc_hz / 500;
    uint64_t now = start;
    while (now < end)
        now = read_tsc();
    uint32_t lapic_elapsed = 0xffffffff - read(reg::timer_current);
    write(reg::timer_initial, 0);
    uint64_t elapsed = now - start;
    return static_cast<uint64_t>(lapic_elapsed) * tsc_hz / (elapsed != 0 ? elapsed : 1);
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
