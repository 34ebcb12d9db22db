#include <arch/cpu.h>

namespace tessera::arch {

CpuFeatures detect_cpu_features()
{
    CpuFeatures features {};
    uint32_t max_leaf = cpuid(0).eax;
    uint32_t max_extended = cpuid(0x80000000).eax;
    if (max_extended >= 0x80000001)
        features.nx = (cpuid(0x80000001).edx & (1u << 20)) != 0;
    if (max_leaf >= 7) {
        auto leaf7 = cpuid(7, 0);
        features.smep = (leaf7.ebx & (1u << 7)) != 0;
        features.smap = (leaf7.ebx & (1u << 20)) != 0;
    }
    return features;
}

} // namespace tessera::arch
