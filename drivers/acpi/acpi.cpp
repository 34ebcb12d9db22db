#include <arch/memory_layout.h>
#include <arch/paging.h>
#include <drivers/acpi/acpi.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/platform/machine.h>

namespace tessera {

namespace {

// Tables are in RAM or firmware ROM below 4 GiB on every machine we boot
// (the physmap covers at least that much); reject anything else.
const uint8_t* read_physical(void*, uint64_t physical, size_t length)
{
    uint64_t end;
    if (__builtin_add_overflow(physical, length, &end) || end > BOOT_PHYSMAP_SIZE)
        return nullptr;
    return static_cast<const uint8_t*>(arch::physical_to_virtual(physical));
}

// ACPI 6.5 5.2.5.1: the RSDP is on a 16-byte boundary in the first KiB of
// the EBDA or in 0xe0000-0xfffff.
ErrorOr<Rsdp> scan_bios_areas()
{
    auto* bda = static_cast<const uint16_t*>(arch::physical_to_virtual(0x40e));
    uint64_t ebda = static_cast<uint64_t>(*bda) << 4;
    struct Area {
        uint64_t start, length;
    } areas[] = { { ebda, 1024 }, { 0xe0000, 0x20000 } };
    for (auto& area : areas) {
        if (area.start == 0 || area.start + area.length > 0x100000)
            continue;
        auto* bytes = static_cast<const uint8_t*>(arch::physical_to_virtual(area.start));
        for (uint64_t offset = 0; offset + 20 <= area.length; offset += 16) {
            auto rsdp = parse_rsdp(bytes + offset, area.length - offset < 36 ? area.length - offset : 36);
            if (!rsdp.is_error())
                return rsdp.release_value();
        }
    }
    return Error(Errno::NOENT, "no ACPI RSDP found");
}

} // namespace

ErrorOr<MadtInfo> acpi_read_madt(const uint8_t* rsdp_copy, size_t rsdp_length)
{
    Rsdp rsdp = rsdp_copy != nullptr ? TRY(parse_rsdp(rsdp_copy, rsdp_length)) : TRY(scan_bios_areas());
    dbgln_if(CONFIG_ACPI_DEBUG, "acpi: RSDP revision %u from %s", rsdp.revision, rsdp.oem_id);
    AcpiTable madt = TRY(find_acpi_table(rsdp, "APIC", read_physical, nullptr));
    return parse_madt(madt.data, madt.length);
}

namespace {

constinit MadtInfo s_madt {};
constinit MachineDescription s_machine {};

// The MADT describes the machine; without one the defaults stand (one CPU,
// no IOAPIC), which is a degraded boot, not a failed one.
ErrorOr<void> acpi_describe_machine()
{
    const BootInfo& info = boot_info();
    auto madt = acpi_read_madt(info.rsdp, info.rsdp_length);
    if (madt.is_error()) {
        warnln("acpi: no usable MADT (%s); one CPU, no IOAPIC", errno_name(madt.error().code()));
        return {};
    }
    s_madt = madt.release_value();
    s_machine = machine_description();
    s_machine.described = true;
    s_machine.local_apic_address = s_madt.local_apic_address;
    for (size_t i = 0; i < s_madt.processor_count && i < machine_max_cpus; ++i)
        s_machine.cpus[i] = { s_madt.processors[i].apic_id, s_madt.processors[i].enabled };
    s_machine.cpu_count = s_madt.processor_count < machine_max_cpus ? s_madt.processor_count : machine_max_cpus;
    if (s_madt.truncated)
        warnln("acpi: more than %zu processors in the MADT; the rest are ignored", machine_max_cpus);
    for (size_t i = 0; i < s_madt.io_apic_count && i < machine_max_io_apics; ++i)
        s_machine.io_apics[i] = { s_madt.io_apics[i].id, s_madt.io_apics[i].address, s_madt.io_apics[i].gsi_base };
    s_machine.io_apic_count = s_madt.io_apic_count < machine_max_io_apics ? s_madt.io_apic_count : machine_max_io_apics;
    size_t overrides = 0;
    for (size_t i = 0; i < s_madt.override_count && overrides < machine_max_overrides; ++i) {
        if (s_madt.overrides[i].bus == 0) // ISA
            s_machine.overrides[overrides++]
                = { s_madt.overrides[i].source_irq, s_madt.overrides[i].gsi, s_madt.overrides[i].flags };
    }
    s_machine.override_count = overrides;
    machine_set_description(s_machine);
    return {};
}

} // namespace

INIT_FUNCTION(platform, acpi_madt, acpi_describe_machine, Optional);

} // namespace tessera
