// The interrupt controllers, set up from what firmware described
// (kernel/platform/machine.h) at the interrupts init level: the legacy PIC
// masked, the boot CPU's LAPIC on, every IOAPIC input masked until a driver
// routes it (irq_route_isa / irq_route_gsi).
#include <arch/apic.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/platform/machine.h>

namespace tessera {

namespace {

ErrorOr<void> lapic_init()
{
    arch::disable_legacy_pic();
    TRY(arch::lapic_initialize(machine_description().local_apic_address));
    arch::lapic_enable_on_this_cpu();
    arch::this_cpu().apic_id = arch::lapic_id();
    return {};
}

ErrorOr<void> ioapic_init()
{
    const MachineDescription& machine = machine_description();
    arch::IoApicDescription ioapics[machine_max_io_apics];
    for (size_t i = 0; i < machine.io_apic_count; ++i)
        ioapics[i] = { machine.io_apics[i].id, machine.io_apics[i].address, machine.io_apics[i].gsi_base };
    arch::IrqOverride overrides[machine_max_overrides];
    for (size_t i = 0; i < machine.override_count; ++i)
        overrides[i] = { machine.overrides[i].isa_irq, machine.overrides[i].gsi, machine.overrides[i].flags };
    return arch::ioapic_initialize(ioapics, machine.io_apic_count, overrides, machine.override_count);
}

} // namespace

// The LAPIC carries the timer and every IPI: without it there is no kernel.
INIT_FUNCTION(interrupts, local_apic, lapic_init, Fatal);
// Without an IOAPIC, devices can still use MSI; legacy IRQs fail to route.
INIT_FUNCTION(interrupts, io_apic, ioapic_init, Optional);

} // namespace tessera
