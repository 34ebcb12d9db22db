#pragma once
// ACPI table discovery and the MADT, parsed without trusting firmware: every
// length, checksum and entry boundary is checked. [acpi]: ACPI 6.5, 5.2
// "ACPI System Description Tables". Physical memory is reached only through
// a caller-provided reader, so the same code runs in the kernel (direct map)
// and on the host (a fake physical memory in the tests).

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/string_view.h>

namespace tessera {

constexpr size_t acpi_sdt_header_size = 36;
// No real table comes near this (a big DSDT is a few hundred KiB); a larger
// length is corruption, not something to map.
constexpr size_t acpi_max_table_length = 16 * 1024 * 1024;

// The Root System Description Pointer. [acpi]: 5.2.5.3
struct Rsdp {
    uint8_t revision; // 0 for ACPI 1.0, 2 for ACPI 2.0 and later.
    char oem_id[7]; // NUL-terminated; unprintable bytes shown as '?'.
    uint32_t rsdt_address;
    uint64_t xsdt_address; // 0 unless a valid ACPI 2.0 XSDP was given.
};

// Validates an RSDP copy of `length` bytes: "RSD PTR " signature, the 20-byte
// checksum, and for revision >= 2 the extended length and checksum. A
// revision 2 RSDP cut to 20 bytes (multiboot2's "old RSDP" tag) is read as
// ACPI 1.0, so only its RSDT is used.
ErrorOr<Rsdp> parse_rsdp(const uint8_t* data, size_t length);

// Returns a pointer through which `length` bytes at `physical` can be read,
// or nullptr when that range cannot be mapped. Every pointer it returns must
// stay valid while the caller uses the tables (e.g. a direct physical map).
using PhysicalReader = const uint8_t* (*)(void* context, uint64_t physical, size_t length);

// A system description table whose length and checksum have been verified.
struct AcpiTable {
    uint64_t physical;
    const uint8_t* data;
    size_t length; // The header's length: all of the table.
};

// Finds the first table with the 4-character `signature` through the XSDT
// (when the RSDP has one) or else the RSDT. Errors: ENOENT when no such
// table, EFAULT when the reader cannot map a table, EINVAL for a malformed
// root table or a matching table with a bad length or checksum.
ErrorOr<AcpiTable> find_acpi_table(const Rsdp& rsdp, StringView signature, PhysicalReader reader, void* context);

// The sum of `length` bytes modulo 256; a valid table sums to 0.
uint8_t acpi_checksum(const uint8_t* data, size_t length);

constexpr size_t madt_max_processors = 64;
constexpr size_t madt_max_io_apics = 8;
constexpr size_t madt_max_overrides = 24;

struct MadtProcessor {
    uint32_t apic_id;
    uint32_t acpi_uid;
    bool enabled; // False: online-capable, not running yet (may be hot-added).
    bool x2apic; // Came from an x2APIC entry (type 9).
};

struct MadtIoApic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

// An ISA IRQ that is wired to a different GSI or polarity/trigger mode.
struct MadtInterruptOverride {
    uint8_t bus;
    uint8_t source_irq;
    uint32_t gsi;
    uint16_t flags; // MPS INTI flags: bits 0-1 polarity, bits 2-3 trigger mode.
};

struct MadtInfo {
    uint64_t local_apic_address; // After any type 5 override.
    uint32_t flags; // Bit 0: PC-AT compatible dual 8259 PICs.

    // Enabled or online-capable processors, unique by APIC id, in table order.
    MadtProcessor processors[madt_max_processors];
    size_t processor_count;
    bool truncated; // More processors than madt_max_processors; the first are kept.

    MadtIoApic io_apics[madt_max_io_apics];
    size_t io_apic_count;

    MadtInterruptOverride overrides[madt_max_overrides];
    size_t override_count;
};

// Parses a MADT ("APIC") of which `length` bytes may be read; the header's
// own length must fit inside. Errors: EINVAL for a bad header, checksum or
// entry (length < 2, past the end, shorter than its type needs, a second
// type 5), ENOSPC for more IOAPICs or overrides than MadtInfo holds.
ErrorOr<MadtInfo> parse_madt(const uint8_t* table, size_t length);

} // namespace tessera
