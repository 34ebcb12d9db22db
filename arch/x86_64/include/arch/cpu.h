#pragma once
// Privileged x86-64 instructions and CPU feature queries. Generic code
// includes <arch/cpu.h>; kernel/arch_contract.h checks the interface.

#include <kernel/lib/kstd.h>

namespace tessera::arch {

inline void disable_interrupts() { asm volatile("cli" ::: "memory"); }
inline void enable_interrupts() { asm volatile("sti" ::: "memory"); }
inline void halt() { asm volatile("hlt" ::: "memory"); }
// Enables interrupts and halts atomically (sti's one-instruction shadow), so
// a wake-up interrupt cannot slip in between.
inline void enable_interrupts_and_halt() { asm volatile("sti; hlt" ::: "memory"); }
inline void relax() { asm volatile("pause" ::: "memory"); }

inline bool interrupts_enabled()
{
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags)::"memory");
    return (flags & (1u << 9)) != 0;
}

// Saves the interrupt flag and disables interrupts; restore_interrupts()
// puts it back. The pair is what spinlock guards use.
inline bool save_and_disable_interrupts()
{
    bool was_enabled = interrupts_enabled();
    disable_interrupts();
    return was_enabled;
}
inline void restore_interrupts(bool was_enabled)
{
    if (was_enabled)
        enable_interrupts();
}

inline uint64_t read_tsc()
{
    uint32_t low, high;
    asm volatile("rdtsc" : "=a"(low), "=d"(high));
    return (static_cast<uint64_t>(high) << 32) | low;
}

inline uint64_t read_msr(uint32_t msr)
{
    uint32_t low, high;
    asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return (static_cast<uint64_t>(high) << 32) | low;
}
inline void write_msr(uint32_t msr, uint64_t value)
{
    asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(value)), "d"(static_cast<uint32_t>(value >> 32)));
}

#define TESSERA_CONTROL_REGISTER(n)                                                                                    \
    inline uint64_t read_cr##n()                                                                                       \
    {                                                                                                                  \
        uint64_t value;                                                                                                \
        asm volatile("mov %%cr" #n ", %0" : "=r"(value));                                                              \
        return value;                                                                                                  \
    }                                                                                                                  \
    inline void write_cr##n(uint64_t value) { asm volatile("mov %0, %%cr" #n ::"r"(value) : "memory"); }
TESSERA_CONTROL_REGISTER(0)
TESSERA_CONTROL_REGISTER(2)
TESSERA_CONTROL_REGISTER(3)
TESSERA_CONTROL_REGISTER(4)
#undef TESSERA_CONTROL_REGISTER

inline void invalidate_page(uint64_t virtual_address) { asm volatile("invlpg (%0)" ::"r"(virtual_address) : "memory"); }

struct CpuidResult {
    uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0)
{
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

// MSRs used by the kernel. [intel/vol4]: table 2-2.
namespace msr {
constexpr uint32_t apic_base = 0x1b;
constexpr uint32_t efer = 0xc0000080;
constexpr uint32_t gs_base = 0xc0000101;
constexpr uint32_t kernel_gs_base = 0xc0000102;
} // namespace msr

// Control register bits. [intel/vol3]: 2.5 "Control registers".
namespace cr4 {
constexpr uint64_t pge = 1u << 7;
constexpr uint64_t smep = 1u << 20;
constexpr uint64_t smap = 1u << 21;
} // namespace cr4

struct CpuFeatures {
    bool nx;
    bool smep;
    bool smap;
};
CpuFeatures detect_cpu_features();

} // namespace tessera::arch
