#pragma once
// A physical memory range as the firmware reported it (multiboot2 memory
// map), before any sanitizing.

#include <kernel/lib/kstd.h>

namespace tessera {

enum class MemoryType : uint8_t {
    Usable,
    Reserved,
    AcpiReclaimable,
    AcpiNvs,
    Bad,
};

struct MemoryRegion {
    uint64_t base;
    uint64_t length;
    MemoryType type;
};

// A half-open physical range [base, base + length).
struct PhysicalRange {
    uint64_t base;
    uint64_t length;

    constexpr uint64_t end() const { return base + length; }
};

constexpr uint64_t page_size = 4096;

} // namespace tessera
