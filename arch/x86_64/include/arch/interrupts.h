#pragma once
// Interrupts and exceptions: the IDT, the saved register frame, and
// registration of IRQ handlers by vector.

#include <kernel/lib/kstd.h>

namespace tessera::arch {

// Saved by interrupt_entry.S; order matches the pushes there.
struct RegisterState {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    // Pushed by the CPU.
    uint64_t rip, cs, rflags, rsp, ss;
};
static_assert(sizeof(RegisterState) == 22 * 8);

// Vectors. 0-31 are exceptions; devices and IPIs above.
namespace vector {
constexpr uint8_t page_fault = 14;
constexpr uint8_t timer = 0x20;
constexpr uint8_t first_irq = 0x30; // IOAPIC GSI n -> first_irq + n
constexpr uint8_t reschedule_ipi = 0xf0;
constexpr uint8_t tlb_shootdown_ipi = 0xf1;
constexpr uint8_t spurious = 0xff;
} // namespace vector

using InterruptHandler = void (*)(RegisterState& registers);

void gdt_install_on_this_cpu();
// All gates on the current stack; usable before any TSS is loaded.
void idt_initialize();
// Moves NMI, double fault and machine check to their IST stacks. Only after
// this CPU (and every CPU that later loads the IDT) has its TSS loaded.
void idt_use_interrupt_stacks();
void idt_install_on_this_cpu();
void register_interrupt_handler(uint8_t vector, InterruptHandler handler);

// Faults at registered "probe" instructions resume at their fixup instead
// of panicking. probe_read/probe_write return false if the access faulted.
bool probe_read(const volatile uint8_t* address);
bool probe_write(volatile uint8_t* address, uint8_t value);

void print_registers(const RegisterState& registers);

} // namespace tessera::arch
