#pragma once
// Local APIC (xAPIC, memory-mapped) and IOAPIC. [intel/vol3]: chapter 11
// "Advanced programmable interrupt controller"; [82093AA datasheet] for the IOAPIC.

#include <kernel/lib/error_or.h>

namespace tessera::arch {

ErrorOr<void> lapic_initialize(uint64_t physical_address);
void lapic_enable_on_this_cpu();
uint32_t lapic_id();
void lapic_end_of_interrupt();
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
// An NMI to one CPU (the panic path stops the others with it); a no-op
// before lapic_initialize().
void lapic_send_nmi(uint32_t apic_id);
void lapic_send_self_ipi(uint8_t vector);
bool lapic_is_mapped();
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page_number);

// Measures the LAPIC timer and TSC against the PIT (once, on the BSP).
struct TimerCalibration {
    uint64_t lapic_timer_hz; // after the /16 divider
    uint64_t tsc_hz;
};
TimerCalibration lapic_calibrate_timer();
void lapic_timer_start_periodic(uint64_t lapic_timer_hz, uint32_t frequency_hz);

// Masks every 8259 PIC line: the APICs take over.
void disable_legacy_pic();

// A busy wait against the TSC, for bring-up delays before the scheduler runs.
void busy_wait_us(uint64_t microseconds);

struct IoApicDescription {
    uint8_t id;
    uint64_t address;
    uint32_t gsi_base;
};
struct IrqOverride {
    uint8_t bus_irq;
    uint32_t gsi;
    uint16_t flags;
};
ErrorOr<void> ioapic_initialize(
    const IoApicDescription* ioapics, size_t count, const IrqOverride* overrides, size_t override_count);
// Routes legacy ISA `irq` (after MADT overrides) to `vector` on the CPU with `apic_id`.
ErrorOr<void> ioapic_route_isa_irq(uint8_t irq, uint8_t vector, uint32_t apic_id);
// Routes global system interrupt `gsi` (PCI INTx: level, active low).
ErrorOr<void> ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool level_triggered, bool active_low);
// Masks the input of `gsi` again.
ErrorOr<void> ioapic_mask_gsi(uint32_t gsi);

} // namespace tessera::arch
