#include <arch/x86_64/lib/cpuid_frequency.h>
#include <gtest/gtest.h>

using namespace tessera::arch;

namespace {

CpuidLeaf signature(const char (&name)[13], uint32_t max_leaf)
{
    uint32_t words[3] = {};
    for (size_t i = 0; i < 12; ++i)
        words[i / 4] |= static_cast<uint32_t>(static_cast<uint8_t>(name[i])) << (8 * (i % 4));
    return { max_leaf, words[0], words[1], words[2] };
}

} // namespace

TEST(CpuidFrequency, NothingStatedOnQemuTcg)
{
    // What QEMU TCG shows (-cpu qemu64 and max): max leaf 0xd, hypervisor
    // "TCGTCGTCGTCG" up to 0x40000001.
    FrequencyLeaves leaves {};
    leaves.max_leaf = 0xd;
    leaves.hypervisor = signature("TCGTCGTCGTCG", 0x40000001);
    auto stated = frequencies_from_cpuid(leaves);
    EXPECT_EQ(stated.tsc_hz, 0u);
    EXPECT_EQ(stated.lapic_timer_hz, 0u);
}

TEST(CpuidFrequency, Leaf15WithCrystal)
{
    FrequencyLeaves leaves {};
    leaves.max_leaf = 0x16;
    leaves.leaf_15 = { 2, 216, 24000000, 0 }; // 24 MHz crystal * 108
    auto stated = frequencies_from_cpuid(leaves);
    EXPECT_EQ(stated.tsc_hz, 2592000000u);
    EXPECT_EQ(stated.lapic_timer_hz, 24000000u);
}

TEST(CpuidFrequency, Leaf15WithoutCrystalUsesLeaf16)
{
    FrequencyLeaves leaves {};
    leaves.max_leaf = 0x16;
    leaves.leaf_15 = { 2, 200, 0, 0 };
    leaves.leaf_16 = { 2400, 3900, 100, 0 };
    auto stated = frequencies_from_cpuid(leaves);
    EXPECT_EQ(stated.tsc_hz, 2400000000u);
    EXPECT_EQ(stated.lapic_timer_hz, 24000000u);
    leaves.max_leaf = 0x15; // 16h out of range: not read
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 0u);
}

TEST(CpuidFrequency, Leaf15OutOfRangeOrZeroRatio)
{
    FrequencyLeaves leaves {};
    leaves.max_leaf = 0x14;
    leaves.leaf_15 = { 2, 216, 24000000, 0 };
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 0u);
    leaves.max_leaf = 0x15;
    leaves.leaf_15 = { 0, 216, 24000000, 0 };
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 0u);
    leaves.leaf_15 = { 2, 0, 24000000, 0 };
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 0u);
}

TEST(CpuidFrequency, HypervisorTimingLeaf)
{
    FrequencyLeaves leaves {};
    leaves.max_leaf = 0xd;
    leaves.hypervisor = signature("KVMKVMKVM\0\0\0", 0x40000010);
    leaves.hypervisor_timing = { 2000000, 1000000, 0, 0 };
    auto stated = frequencies_from_cpuid(leaves);
    EXPECT_EQ(stated.tsc_hz, 2000000000u);
    EXPECT_EQ(stated.lapic_timer_hz, 1000000000u);

    leaves.hypervisor = signature("VMwareVMware", 0x40000010);
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 2000000000u);
    // Below the maximum, or an unknown hypervisor: not trusted.
    leaves.hypervisor = signature("VMwareVMware", 0x4000000f);
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 0u);
    leaves.hypervisor = signature("TCGTCGTCGTCG", 0x40000010);
    EXPECT_EQ(frequencies_from_cpuid(leaves).tsc_hz, 0u);
}
