#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/io.h>
#include <arch/paging.h>
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
};

// One PIT window. Every PIT access is bracketed by TSC reads, so a window
// in which the vCPU was descheduled (common under emulation on a busy
// host) shows up as a large uncertainty and is discarded.
Sample measure_window(uint32_t window_ms)
{
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
        last_not_done = now;
    }
    uint32_t lapic_elapsed = 0xffffffff - read(reg::timer_current);
    write(reg::timer_initial, 0);
    return { end - after_start, lapic_elapsed, (after_start - before_start) + (end - last_not_done) };
}

} // namespace

// Several short windows; the median of the trustworthy ones.
TimerCalibration lapic_calibrate_timer()
{
    constexpr uint32_t window_ms = 10;
    constexpr size_t window_count = 7;
    write(reg::timer_divide, 0x3); // divide by 16
    Sample samples[window_count];
    size_t kept = 0;
    for (size_t i = 0; i < window_count; ++i) {
        Sample sample = measure_window(window_ms);
        // Keep windows whose edges are known to 0.2%.
        if (sample.uncertainty * 500 < sample.tsc_elapsed)
            samples[kept++] = sample;
    }
    if (kept == 0)
        samples[kept++] = measure_window(window_ms);
    // Insertion sort by TSC cycles; the median sample gives both rates.
    for (size_t i = 1; i < kept; ++i) {
        for (size_t j = i; j > 0 && samples[j].tsc_elapsed < samples[j - 1].tsc_elapsed; --j) {
            Sample swap = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = swap;
        }
    }
    const Sample& median = samples[kept / 2];
    return { static_cast<uint64_t>(median.lapic_elapsed) * 1000 / window_ms, median.tsc_elapsed * 1000 / window_ms };
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
