#pragma once
// What firmware says the machine is: CPUs and interrupt controllers. A
// firmware driver (drivers/acpi) fills it in at the platform init level;
// the interrupt setup (kernel/irq) and SMP start-up read it. Without a
// driver or a usable table the default is one CPU, the architectural LAPIC
// address and no IOAPIC.

#include <kernel/lib/kstd.h>

namespace tessera {

constexpr size_t machine_max_cpus = 64;
constexpr size_t machine_max_io_apics = 8;
constexpr size_t machine_max_overrides = 24;

struct MachineCpu {
    uint32_t apic_id;
    bool enabled;
};

struct MachineIoApic {
    uint8_t id;
    uint64_t address;
    uint32_t gsi_base;
};

// An ISA IRQ that arrives on another GSI, or with other polarity/trigger
// (MPS INTI flags). [ACPI 6.5]: 5.2.12.5.
struct MachineIrqOverride {
    uint8_t isa_irq;
    uint32_t gsi;
    uint16_t flags;
};

struct MachineDescription {
    bool described; // false: the defaults, no firmware table was read
    uint64_t local_apic_address;
    MachineCpu cpus[machine_max_cpus];
    size_t cpu_count;
    MachineIoApic io_apics[machine_max_io_apics];
    size_t io_apic_count;
    MachineIrqOverride overrides[machine_max_overrides];
    size_t override_count;
};

// Boot CPU only, at the platform init level.
void machine_set_description(const MachineDescription& description);
const MachineDescription& machine_description();

} // namespace tessera
