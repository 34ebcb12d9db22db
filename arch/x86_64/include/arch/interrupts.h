#pragma once
// Interrupts and exceptions: the IDT and the saved register frame.
// Exceptions are handled here; every vector from 32 up goes to the core's
// IRQ layer (kernel/irq/irq.h), which owns handlers and vector allocation.

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

// Vectors. 0-31 are exceptions; fixed vectors for the timer and IPIs, and a
// range that kernel/irq allocates to devices (IOAPIC pins, MSI).
namespace vector {
constexpr uint8_t nmi = 2;
constexpr uint8_t page_fault = 14;
constexpr uint8_t timer = 0x20;
constexpr uint8_t first_device = 0x30;
constexpr uint8_t last_device = 0xdf;
// Where the masked 8259 PIC would deliver (disable_legacy_pic()): only
// spurious interrupts can arrive here.
constexpr uint8_t first_legacy_pic = 0xe0;
constexpr uint8_t last_legacy_pic = 0xef;
constexpr uint8_t reschedule_ipi = 0xf0;
constexpr uint8_t tlb_shootdown_ipi = 0xf1;
constexpr uint8_t spurious = 0xff; // the LAPIC's spurious vector (no EOI)
} // namespace vector

void gdt_install_on_this_cpu();
// All gates on the current stack; usable before any TSS is loaded.
void idt_initialize();
// Moves NMI, double fault and machine check to their IST stacks. Only after
// this CPU (and every CPU that later loads the IDT) has its TSS loaded.
void idt_use_interrupt_stacks();
void idt_install_on_this_cpu();

// Faults at registered "probe" instructions resume at their fixup instead
// of panicking. probe_read/probe_write return false if the access faulted.
bool probe_read(const volatile uint8_t* address);
bool probe_write(volatile uint8_t* address, uint8_t value);

void print_registers(const RegisterState& registers);

} // namespace tessera::arch
