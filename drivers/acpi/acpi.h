#pragma once
// Finds the CPUs and interrupt controllers through the ACPI MADT, starting
// from the RSDP copy that GRUB puts in the multiboot2 information (or, with
// BIOS firmware and no such copy, a scan of the BIOS areas).

#include <drivers/acpi/lib/acpi_tables.h>

namespace tessera {

ErrorOr<MadtInfo> acpi_read_madt(const uint8_t* rsdp_copy, size_t rsdp_length);

} // namespace tessera
