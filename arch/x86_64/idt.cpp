#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/debug/symbols.h>
#include <kernel/irq/irq.h>
#include <kernel/lib/format.h>

extern "C" {
extern const uint64_t interrupt_stub_table[256];
extern char probe_read_access[], probe_read_fixup[], probe_write_access[], probe_write_fixup[];
bool probe_read_asm(const volatile uint8_t*);
bool probe_write_asm(volatile uint8_t*, uint8_t);
void interrupt_dispatch(tessera::arch::RegisterState& registers);
}

namespace tessera::arch {

namespace {

// A 64-bit interrupt gate. [intel/vol3]: 6.14.1.
struct [[gnu::packed]] IdtEntry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};
static_assert(sizeof(IdtEntry) == 16);

struct [[gnu::packed]] IdtPointer {
    uint16_t limit;
    uint64_t base;
};

constinit IdtEntry s_idt[256] {};

const char* const exception_names[32] = { "divide error", "debug", "NMI", "breakpoint", "overflow",
    "bound range exceeded", "invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
    "invalid TSS", "segment not present", "stack-segment fault", "general protection fault", "page fault", "reserved",
    "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point error",
    "virtualization exception", "control protection exception", "reserved", "reserved", "reserved", "reserved",
    "reserved", "reserved", "hypervisor injection", "VMM communication", "security exception", "reserved" };

void set_gate(uint8_t vector, uint8_t ist)
{
    uint64_t handler = interrupt_stub_table[vector];
    s_idt[vector] = IdtEntry { static_cast<uint16_t>(handler), 0x08, ist, 0x8e, static_cast<uint16_t>(handler >> 16),
        static_cast<uint32_t>(handler >> 32), 0 };
}

bool apply_probe_fixup(RegisterState& registers)
{
    if (registers.rip == reinterpret_cast<uint64_t>(probe_read_access)) {
        registers.rip = reinterpret_cast<uint64_t>(probe_read_fixup);
        return true;
    }
    if (registers.rip == reinterpret_cast<uint64_t>(probe_write_access)) {
        registers.rip = reinterpret_cast<uint64_t>(probe_write_fixup);
        return true;
    }
    return false;
}

// Through the core's one panic path: it stops the other CPUs, and a second
// CPU faulting meanwhile halts there silently.
[[noreturn]] void unhandled_exception(RegisterState& registers)
{
    panic_begin();
    char where[128];
    symbolize(registers.rip, where, sizeof(where));
    console_print_unlocked("\nEXCEPTION: %s (vector %llu, error code %#llx) on CPU %u at %s\n",
        exception_names[registers.vector & 31], static_cast<unsigned long long>(registers.vector),
        static_cast<unsigned long long>(registers.error_code), this_cpu().local.index, where);
    if (registers.vector == vector::page_fault) {
        uint64_t error = registers.error_code;
        console_print_unlocked("  faulting address %#llx: %s, %s, %s%s\n", static_cast<unsigned long long>(read_cr2()),
            (error & 1) ? "protection violation" : "page not present", (error & 2) ? "write" : "read",
            (error & 4) ? "user" : "kernel", (error & 16) ? ", instruction fetch" : "");
    }
    print_registers(registers);
    panic_end("unhandled exception", registers.rbp);
}

// The panicking CPU stops the others with an NMI: halt here, interrupts off.
[[noreturn]] void nmi(RegisterState& registers)
{
    if (panic_stopping_this_cpu()) {
        for (;;)
            halt();
    }
    unhandled_exception(registers);
}

} // namespace

void print_registers(const RegisterState& r)
{
    using u = unsigned long long;
    console_print_unlocked(
        "  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n", u(r.rax), u(r.rbx), u(r.rcx), u(r.rdx));
    console_print_unlocked(
        "  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n", u(r.rsi), u(r.rdi), u(r.rbp), u(r.rsp));
    console_print_unlocked("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n", u(r.r8), u(r.r9), u(r.r10), u(r.r11));
    console_print_unlocked(
        "  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n", u(r.r12), u(r.r13), u(r.r14), u(r.r15));
    console_print_unlocked("  rip %016llx cs %04llx rflags %08llx ss %04llx cr2 %016llx cr3 %016llx\n", u(r.rip),
        u(r.cs), u(r.rflags), u(r.ss), u(read_cr2()), u(read_cr3()));
}

void idt_initialize()
{
    for (unsigned vector = 0; vector < 256; ++vector)
        set_gate(static_cast<uint8_t>(vector), 0);
}

void idt_use_interrupt_stacks()
{
    set_gate(2, ist_nmi);
    set_gate(8, ist_double_fault);
    set_gate(18, ist_machine_check);
}

void idt_install_on_this_cpu()
{
    IdtPointer pointer { sizeof(s_idt) - 1, reinterpret_cast<uint64_t>(s_idt) };
    asm volatile("lidt %0" ::"m"(pointer));
}

bool probe_read(const volatile uint8_t* address) { return probe_read_asm(address); }
bool probe_write(volatile uint8_t* address, uint8_t value) { return probe_write_asm(address, value); }

} // namespace tessera::arch

using namespace tessera::arch;

extern "C" void interrupt_dispatch(RegisterState& registers)
{
    uint8_t vector = static_cast<uint8_t>(registers.vector);
    if (vector >= 32) {
        tessera::irq_dispatch(vector);
        return;
    }
    if (vector == tessera::arch::vector::page_fault && apply_probe_fixup(registers))
        return;
    if (vector == tessera::arch::vector::nmi)
        nmi(registers);
    unhandled_exception(registers);
}
