#include <drivers/acpi/lib/acpi_tables.h>
#include <kernel/lib/checked.h>

namespace tessera {

namespace {

constexpr size_t rsdp_v1_length = 20;
constexpr size_t rsdp_v2_length = 36;
constexpr size_t madt_entries_offset = 44;

// Byte loads: firmware tables have no alignment promise.
uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

uint32_t read_u32(const uint8_t* p)
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16
        | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t read_u64(const uint8_t* p) { return read_u32(p) | static_cast<uint64_t>(read_u32(p + 4)) << 32; }

bool has_signature(const uint8_t* data, StringView signature)
{
    for (size_t i = 0; i < signature.length(); ++i) {
        if (data[i] != static_cast<uint8_t>(signature[i]))
            return false;
    }
    return true;
}

// Maps the table at `physical` in two steps (header, then the length it
// claims) and verifies its signature, length and checksum.
ErrorOr<AcpiTable> map_table(uint64_t physical, StringView signature, PhysicalReader reader, void* context)
{
    TRY(checked_add<uint64_t>(physical, acpi_sdt_header_size));
    const uint8_t* header = reader(context, physical, acpi_sdt_header_size);
    if (header == nullptr)
        return Error(Errno::FAULT, "ACPI: table header cannot be mapped");
    if (!has_signature(header, signature))
        return Error(Errno::INVAL, "ACPI: table signature is not the expected one");
    size_t length = read_u32(header + 4);
    if (length < acpi_sdt_header_size || length > acpi_max_table_length)
        return Error(Errno::INVAL, "ACPI: table length out of range");
    TRY(checked_add<uint64_t>(physical, length));
    const uint8_t* data = reader(context, physical, length);
    if (data == nullptr)
        return Error(Errno::FAULT, "ACPI: table cannot be mapped");
    // The second mapping is read again: firmware memory is not ours, and
    // the header seen first may not be what is there now.
    if (read_u32(data + 4) != length)
        return Error(Errno::INVAL, "ACPI: table length changed while mapping");
    if (acpi_checksum(data, length) != 0)
        return Error(Errno::INVAL, "ACPI: table checksum is wrong");
    return AcpiTable { physical, data, length };
}

} // namespace

uint8_t acpi_checksum(const uint8_t* data, size_t length)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; ++i)
        sum = static_cast<uint8_t>(sum + data[i]);
    return sum;
}

ErrorOr<Rsdp> parse_rsdp(const uint8_t* data, size_t length)
{
    if (data == nullptr || length < rsdp_v1_length)
        return Error(Errno::INVAL, "ACPI: RSDP shorter than 20 bytes");
    if (!has_signature(data, "RSD PTR "))
        return Error(Errno::INVAL, "ACPI: RSDP signature is not \"RSD PTR \"");
    if (acpi_checksum(data, rsdp_v1_length) != 0)
        return Error(Errno::INVAL, "ACPI: RSDP checksum is wrong");

    Rsdp rsdp {};
    rsdp.revision = data[15];
    for (size_t i = 0; i < 6; ++i) {
        uint8_t c = data[9 + i];
        rsdp.oem_id[i] = (c >= 0x20 && c <= 0x7e) ? static_cast<char>(c) : '?';
    }
    rsdp.oem_id[6] = '\0';
    rsdp.rsdt_address = read_u32(data + 16);

    if (rsdp.revision >= 2 && length >= rsdp_v2_length) {
        size_t extended_length = read_u32(data + 20);
        if (extended_length < rsdp_v2_length)
            return Error(Errno::INVAL, "ACPI: XSDP length below 36");
        if (extended_length > length)
            return Error(Errno::INVAL, "ACPI: XSDP length beyond the bytes given");
        if (acpi_checksum(data, extended_length) != 0)
            return Error(Errno::INVAL, "ACPI: XSDP extended checksum is wrong");
        rsdp.xsdt_address = read_u64(data + 24);
    }
    return rsdp;
}

ErrorOr<AcpiTable> find_acpi_table(const Rsdp& rsdp, StringView signature, PhysicalReader reader, void* context)
{
    if (signature.length() != 4)
        return Error(Errno::INVAL, "ACPI: table signatures are 4 characters");
    if (reader == nullptr)
        return Error(Errno::INVAL, "ACPI: no physical memory reader");

    // The XSDT when there is one: the RSDT cannot point above 4 GiB.
    bool use_xsdt = rsdp.xsdt_address != 0;
    uint64_t root_address = use_xsdt ? rsdp.xsdt_address : rsdp.rsdt_address;
    if (root_address == 0)
        return Error(Errno::INVAL, "ACPI: RSDP has neither an RSDT nor an XSDT");
    auto root = TRY(map_table(root_address, use_xsdt ? "XSDT" : "RSDT", reader, context));

    size_t entry_size = use_xsdt ? 8 : 4;
    size_t entries_size = root.length - acpi_sdt_header_size;
    if (entries_size % entry_size != 0)
        return Error(Errno::INVAL, "ACPI: root table ends inside an entry");

    for (size_t offset = 0; offset < entries_size; offset += entry_size) {
        const uint8_t* entry = root.data + acpi_sdt_header_size + offset;
        uint64_t address = use_xsdt ? read_u64(entry) : read_u32(entry);
        if (address == 0)
            continue; // Some firmware leaves empty slots.
        TRY(checked_add<uint64_t>(address, acpi_sdt_header_size));
        const uint8_t* header = reader(context, address, acpi_sdt_header_size);
        if (header == nullptr)
            return Error(Errno::FAULT, "ACPI: table header cannot be mapped");
        // Only the table asked for is verified in full, so that one broken
        // table the kernel does not use cannot stop the boot.
        if (has_signature(header, signature))
            return map_table(address, signature, reader, context);
    }
    return Error(Errno::NOENT, "ACPI: no table with that signature");
}

namespace {

struct MadtEntryType {
    enum : uint8_t {
        LocalApic = 0,
        IoApic = 1,
        InterruptSourceOverride = 2,
        LocalApicAddressOverride = 5,
        LocalX2Apic = 9,
    };
};

// [acpi]: 5.2.12.2 "Local APIC Flags".
constexpr uint32_t processor_enabled = 1u << 0;
constexpr uint32_t processor_online_capable = 1u << 1;

void add_processor(MadtInfo& info, uint32_t apic_id, uint32_t acpi_uid, uint32_t flags, bool x2apic)
{
    if ((flags & (processor_enabled | processor_online_capable)) == 0)
        return;
    // Firmware may list a CPU both as a local APIC and as an x2APIC.
    for (size_t i = 0; i < info.processor_count; ++i) {
        if (info.processors[i].apic_id == apic_id)
            return;
    }
    if (info.processor_count == madt_max_processors) {
        info.truncated = true;
        return;
    }
    info.processors[info.processor_count++] = { apic_id, acpi_uid, (flags & processor_enabled) != 0, x2apic };
}

// The smallest length of each entry type the parser reads ([acpi]:
// 5.2.12.2-5.2.12.12); later ACPI versions may make entries longer.
size_t minimum_entry_length(uint8_t type)
{
    switch (type) {
    case MadtEntryType::LocalApic:
        return 8;
    case MadtEntryType::IoApic:
    case MadtEntryType::LocalApicAddressOverride:
        return 12;
    case MadtEntryType::InterruptSourceOverride:
        return 10;
    case MadtEntryType::LocalX2Apic:
        return 16;
    default:
        return 2;
    }
}

} // namespace

ErrorOr<MadtInfo> parse_madt(const uint8_t* table, size_t length)
{
    if (table == nullptr || length < madt_entries_offset)
        return Error(Errno::INVAL, "MADT: shorter than its 44-byte header");
    if (!has_signature(table, "APIC"))
        return Error(Errno::INVAL, "MADT: signature is not \"APIC\"");
    size_t table_length = read_u32(table + 4);
    if (table_length < madt_entries_offset || table_length > length)
        return Error(Errno::INVAL, "MADT: header length out of range");
    if (acpi_checksum(table, table_length) != 0)
        return Error(Errno::INVAL, "MADT: checksum is wrong");

    MadtInfo info {};
    info.local_apic_address = read_u32(table + 36);
    info.flags = read_u32(table + 40);
    bool have_address_override = false;

    size_t offset = madt_entries_offset;
    while (offset < table_length) {
        if (table_length - offset < 2)
            return Error(Errno::INVAL, "MADT: entry header crosses the end");
        const uint8_t* entry = table + offset;
        uint8_t type = entry[0];
        size_t entry_length = entry[1];
        if (entry_length < 2)
            return Error(Errno::INVAL, "MADT: entry length below 2");
        if (entry_length > table_length - offset)
            return Error(Errno::INVAL, "MADT: entry crosses the end");
        if (entry_length < minimum_entry_length(type))
            return Error(Errno::INVAL, "MADT: entry shorter than its type requires");

        switch (type) {
        case MadtEntryType::LocalApic:
            add_processor(info, entry[3], entry[2], read_u32(entry + 4), false);
            break;
        case MadtEntryType::LocalX2Apic:
            add_processor(info, read_u32(entry + 4), read_u32(entry + 12), read_u32(entry + 8), true);
            break;
        case MadtEntryType::IoApic:
            if (info.io_apic_count == madt_max_io_apics)
                return Error(Errno::NOSPC, "MADT: more IOAPICs than MadtInfo holds");
            info.io_apics[info.io_apic_count++] = { entry[2], read_u32(entry + 4), read_u32(entry + 8) };
            break;
        case MadtEntryType::InterruptSourceOverride:
            if (info.override_count == madt_max_overrides)
                return Error(Errno::NOSPC, "MADT: more interrupt source overrides than MadtInfo holds");
            info.overrides[info.override_count++] = { entry[2], entry[3], read_u32(entry + 4), read_u16(entry + 8) };
            break;
        case MadtEntryType::LocalApicAddressOverride:
            if (have_address_override)
                return Error(Errno::INVAL, "MADT: two local APIC address overrides");
            info.local_apic_address = read_u64(entry + 4);
            have_address_override = true;
            break;
        default:
            // NMI sources, local APIC NMIs, GIC entries, ...: not used yet.
            break;
        }
        offset += entry_length;
    }
    return info;
}

} // namespace tessera
