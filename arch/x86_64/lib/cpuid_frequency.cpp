#include <arch/x86_64/lib/cpuid_frequency.h>

namespace tessera::arch {

namespace {

bool signature_is(const CpuidLeaf& leaf, const char (&name)[13])
{
    uint32_t words[3] = { leaf.ebx, leaf.ecx, leaf.edx };
    for (size_t i = 0; i < 12; ++i) {
        if (static_cast<char>(words[i / 4] >> (8 * (i % 4))) != name[i])
            return false;
    }
    return true;
}

} // namespace

StatedFrequencies frequencies_from_cpuid(const FrequencyLeaves& leaves)
{
    // The timing leaf VMware defined and QEMU/KVM also offer
    // (vmware-cpuid-freq): eax TSC kHz, ebx APIC bus (timer) kHz. Only
    // under a hypervisor that documents it, and only if it is in range.
    const CpuidLeaf& hv = leaves.hypervisor;
    bool known_hypervisor = signature_is(hv, "VMwareVMware") || signature_is(hv, "KVMKVMKVM\0\0\0");
    if (known_hypervisor && hv.eax >= 0x40000010 && leaves.hypervisor_timing.eax != 0) {
        return { static_cast<uint64_t>(leaves.hypervisor_timing.eax) * 1000,
            static_cast<uint64_t>(leaves.hypervisor_timing.ebx) * 1000 };
    }

    // [intel/vol2]: CPUID leaf 15h: TSC = crystal * ebx / eax; the APIC
    // timer then runs at the crystal clock ([intel/vol3]: 11.5.4). Some CPUs
    // leave the crystal (ecx) zero; leaf 16h's base frequency is then the
    // TSC's, and the crystal follows from the ratio (as Linux does).
    if (leaves.max_leaf < 0x15)
        return {};
    uint64_t denominator = leaves.leaf_15.eax;
    uint64_t numerator = leaves.leaf_15.ebx;
    if (denominator == 0 || numerator == 0)
        return {};
    uint64_t crystal_hz = leaves.leaf_15.ecx;
    if (crystal_hz != 0)
        return { crystal_hz * numerator / denominator, crystal_hz };
    if (leaves.max_leaf < 0x16 || (leaves.leaf_16.eax & 0xffff) == 0)
        return {};
    uint64_t tsc_hz = static_cast<uint64_t>(leaves.leaf_16.eax & 0xffff) * 1000000;
    return { tsc_hz, tsc_hz * denominator / numerator };
}

} // namespace tessera::arch
