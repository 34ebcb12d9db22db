#pragma once
// Per-CPU data, reached through the GS base: %gs:0 holds a pointer to the
// CPU's own PerCpu. The BSP's is set first thing in kernel_main; each AP's
// before it runs any C++. PerCpu is the x86 part (descriptor tables, APIC
// id, TLB shootdown acknowledgement) around the generic CpuLocal that the
// scheduler and lock checks use; generic code reaches only the CpuLocal.

#include <kernel/cpu_local.h>
#include <kernel/lib/kstd.h>

namespace tessera::arch {

constexpr size_t max_cpus = 64;

// The 64-bit task state segment. [intel/vol3]: 8.7 "Task management in 64-bit mode".
struct [[gnu::packed]] TaskStateSegment {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base;
};
static_assert(sizeof(TaskStateSegment) == 104);

// Interrupt stack table slots (1-based, as the IDT encodes them).
constexpr uint8_t ist_double_fault = 1;
constexpr uint8_t ist_nmi = 2;
constexpr uint8_t ist_machine_check = 3;

struct PerCpu {
    PerCpu* self; // must stay first: this_cpu() reads %gs:0
    CpuLocal local;
    uint32_t apic_id;
    // The last TLB shootdown generation this CPU has flushed for (tlb_shootdown.cpp).
    kstd::atomic<uint64_t> tlb_generation_flushed;
    alignas(16) uint64_t gdt[7];
    TaskStateSegment tss;
};

// The running thread, read with one instruction: an interrupt between
// loading %gs:0 and the field could migrate the caller to another CPU and
// make it read that CPU's thread.
inline Thread* current_thread_pointer()
{
    Thread* thread;
    asm volatile("movq %%gs:%c1, %0" : "=r"(thread) : "i"(__builtin_offsetof(PerCpu, local.current_thread)));
    return thread;
}

inline PerCpu& this_cpu()
{
    PerCpu* cpu;
    asm volatile("movq %%gs:0, %0" : "=r"(cpu));
    return *cpu;
}
// The generic part of this CPU's data. The caller keeps interrupts off (or
// is pinned) while it uses it, or it may be another CPU's by then.
inline CpuLocal& this_cpu_local() { return this_cpu().local; }

// The index of the CPU running this code. Interrupts are off for the read
// so the thread cannot migrate between loading %gs:0 and the field.
uint32_t current_cpu_index();

PerCpu& cpu_at(size_t index);
inline CpuLocal& cpu_local_at(size_t index) { return cpu_at(index).local; }
size_t cpu_count();
// Sets up the PerCpu of `index` and points this CPU's GS base at it.
void install_per_cpu(size_t index, uint32_t apic_id);
void set_cpu_count(size_t count);

} // namespace tessera::arch
