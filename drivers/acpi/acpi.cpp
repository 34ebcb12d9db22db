#include <arch/memory_layout.h>
#include <arch/paging.h>
#include <drivers/acpi/acpi.h>
#include <kernel/console/console.h>

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

} // namespace tessera
