#pragma once
// The TSC and local APIC timer frequencies as the CPU or the hypervisor
// states them in CPUID, so that boot need not measure them against the PIT.
// Portable (takes the raw leaves), so the decoding is host-tested.

#include <kernel/lib/kstd.h>

namespace tessera::arch {

struct CpuidLeaf {
    uint32_t eax, ebx, ecx, edx;
};

// Raw leaves; a leaf beyond its range's maximum is left zero by the caller.
struct FrequencyLeaves {
    uint32_t max_leaf; // CPUID 0 eax
    CpuidLeaf leaf_15; // TSC / core crystal clock
    CpuidLeaf leaf_16; // processor base frequency (MHz)
    CpuidLeaf hypervisor; // 0x40000000: max hypervisor leaf, signature in ebx ecx edx
    CpuidLeaf hypervisor_timing; // 0x40000010: TSC kHz, APIC bus kHz
};

// Zero where unknown. lapic_timer_hz is the undivided timer clock.
struct StatedFrequencies {
    uint64_t tsc_hz;
    uint64_t lapic_timer_hz;
};

StatedFrequencies frequencies_from_cpuid(const FrequencyLeaves& leaves);

} // namespace tessera::arch
