#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/per_cpu.h>
#include <kernel/console/panic.h>
#include <kernel/memory/kernel_stack.h>

namespace tessera::arch {

namespace {

// Segment descriptors. [intel/vol3]: 3.4.5 and 8.2.3 (64-bit TSS descriptor).
constexpr uint64_t kernel_code = 0x00af9a000000ffff;
constexpr uint64_t kernel_data = 0x00cf92000000ffff;
constexpr uint64_t user_data = 0x00cff2000000ffff;
constexpr uint64_t user_code = 0x00affa000000ffff;
constexpr uint16_t tss_selector = 0x28;

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

} // namespace

// Each CPU gets its own GDT (its TSS descriptor differs) and IST stacks for
// the exceptions that must not run on a possibly broken stack.
void gdt_install_on_this_cpu()
{
    PerCpu& cpu = this_cpu();
    cpu.gdt[0] = 0;
    cpu.gdt[1] = kernel_code;
    cpu.gdt[2] = kernel_data;
    cpu.gdt[3] = user_data;
    cpu.gdt[4] = user_code;
    auto tss = reinterpret_cast<uint64_t>(&cpu.tss);
    uint64_t limit = sizeof(TaskStateSegment) - 1;
    cpu.gdt[5] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48)
        | (((tss >> 24) & 0xff) << 56);
    cpu.gdt[6] = tss >> 32;

    cpu.tss.io_map_base = sizeof(TaskStateSegment);
    for (uint8_t slot : { ist_double_fault, ist_nmi, ist_machine_check }) {
        auto stack = kernel_stack_allocate();
        if (stack.is_error())
            panic("no memory for CPU %u's interrupt stacks", cpu.local.index);
        cpu.tss.ist[slot - 1] = stack.value().top;
    }

    DescriptorPointer pointer { sizeof(cpu.gdt) - 1, reinterpret_cast<uint64_t>(cpu.gdt) };
    asm volatile("lgdt %0" ::"m"(pointer));
    // Reload CS through a far return, then the data segments and the TSS.
    asm volatile("pushq $0x08\n"
                 "leaq 1f(%%rip), %%rax\n"
                 "pushq %%rax\n"
                 "lretq\n"
                 "1:\n"
                 "movw $0x10, %%ax\n"
                 "movw %%ax, %%ds\n"
                 "movw %%ax, %%es\n"
                 "movw %%ax, %%ss\n"
                 "ltr %w0\n" ::"r"(tss_selector)
                 : "rax", "memory");
}

void set_kernel_stack_top(uint64_t stack_top) { this_cpu().tss.rsp[0] = stack_top; }

} // namespace tessera::arch
