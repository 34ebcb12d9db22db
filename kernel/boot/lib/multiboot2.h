#pragma once
// The multiboot2 boot information structure that GRUB leaves for the kernel.
// [multiboot2]: 3.6 "Boot information format". Everything in it is checked
// before use: a loader bug must become an error message, not a wild read.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/string_view.h>
#include <kernel/memory/lib/memory_region.h>

namespace tessera {

// The value a multiboot2 loader puts in EAX. [multiboot2]: 3.3
constexpr uint32_t multiboot2_bootloader_magic = 0x36d76289;

// EINVAL unless `eax` is the multiboot2 loader magic.
ErrorOr<void> check_multiboot2_magic(uint32_t eax);

constexpr size_t boot_info_max_memory_regions = 64;
constexpr size_t boot_info_max_modules = 16;

struct BootModule {
    uint64_t start;
    uint64_t end; // Exclusive, as the loader reports it.
    StringView name; // The module's command line (GRUB: the path and arguments).
};

// What the kernel needs from the boot information. Every StringView and
// pointer points into the caller's info buffer, which must outlive this.
struct BootInfo {
    StringView command_line; // Empty when there is no command line tag.
    StringView bootloader_name; // Empty when there is no name tag.

    MemoryRegion memory_regions[boot_info_max_memory_regions];
    size_t memory_region_count;
    bool has_memory_map;

    BootModule modules[boot_info_max_modules];
    size_t module_count;

    // The loader's copy of the ACPI RSDP; the new (ACPI 2.0+) one when the
    // loader gave both. nullptr when it gave none. Not yet checksummed.
    const uint8_t* rsdp;
    size_t rsdp_length;
    bool rsdp_is_xsdp;
};

// Parses the boot information at `info` (which must be 8-byte aligned), of
// which `available` bytes may be read. Errors: EINVAL for a malformed
// structure, ENOSPC when it holds more regions or modules than BootInfo can.
ErrorOr<BootInfo> parse_multiboot2(const uint8_t* info, size_t available);

} // namespace tessera
