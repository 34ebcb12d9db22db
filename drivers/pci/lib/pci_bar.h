#pragma once
// Base address registers: where a function's registers are and how large
// the region is. [PCI Local Bus 3.0]: 6.2.5.1 "Address maps": bit 0 tells
// I/O from memory; for memory, bits 2:1 are the type (00 32-bit, 10 64-bit
// using the next BAR for the upper half) and bit 3 prefetchable. The size
// is found by writing all ones and reading back which address bits stick.

#include <drivers/pci/lib/pci_config_space.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

enum class PciBarKind : uint8_t {
    Io,
    Memory32,
    Memory64,
};

struct PciBar {
    PciBarKind kind;
    uint8_t index;
    uint64_t address; // as the firmware assigned it; 0 if it did not
    uint64_t size; // bytes; 0 for I/O BARs, which are reported but not sized
    bool prefetchable;

    bool is_memory() const { return kind != PciBarKind::Io; }
};

// Six BARs in a general (type 0) header, two in a bridge's (type 1).
// EINVAL for any other header type.
ErrorOr<uint8_t> pci_bar_count(uint8_t header_type);

// Decodes and sizes BAR `index`. Memory decoding is switched off in the
// command register while the BAR holds all ones (or the function would
// answer at a bogus address) and the BAR and command are restored after.
// ENOENT: the BAR is not implemented (reads back zero). EINVAL: an index
// past the header's BARs, a 64-bit BAR in the last slot, a reserved type, a
// size mask that is not a power of two, or an address not aligned to the size.
ErrorOr<PciBar> pci_probe_bar(PciConfigSpace& config, uint8_t index);

} // namespace tessera
