#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/debug/symbols.h>
#include <kernel/lib/format.h>
#include <kernel/platform/ending.h>
#include <kernel/platform/exit.h>

namespace tessera {

namespace {

[[noreturn]] void halt_forever()
{
    arch::disable_interrupts();
    for (;;)
        arch::halt();
}

// NMIs get through even to a CPU spinning with interrupts off.
void stop_other_cpus(uint32_t me)
{
    for (size_t i = 0; i < arch::cpu_count(); ++i) {
        const arch::PerCpu& cpu = arch::cpu_at(i);
        if (cpu.local.index != me && cpu.local.online.load(kstd::memory_order_acquire))
            arch::lapic_send_nmi(cpu.apic_id);
    }
}

} // namespace

void print_backtrace(unsigned long frame_pointer)
{
    if (frame_pointer == 0)
        frame_pointer = reinterpret_cast<unsigned long>(__builtin_frame_address(0));
    console_print_unlocked("Backtrace:\n");
    for (int depth = 0; depth < 32 && frame_pointer != 0; ++depth) {
        // Walk only frames that are aligned, in kernel space and mapped.
        if ((frame_pointer & 7) != 0 || !arch::is_kernel_address(frame_pointer) || !arch::is_mapped(frame_pointer)
            || !arch::is_mapped(frame_pointer + 15))
            break;
        auto* frame = reinterpret_cast<unsigned long*>(frame_pointer);
        unsigned long return_address = frame[1];
        if (return_address == 0)
            break;
        char symbol[128];
        symbolize(return_address, symbol, sizeof(symbol));
        console_print_unlocked("  #%d 0x%016lx %s\n", depth, return_address, symbol);
        if (frame[0] <= frame_pointer)
            break; // frames grow upward; anything else is a corrupt chain
        frame_pointer = frame[0];
    }
}

void panic_begin()
{
    arch::disable_interrupts();
    uint32_t me = arch::this_cpu_local().index;
    switch (ending_claim_panic(me)) {
    case PanicClaim::First:
        break;
    case PanicClaim::Nested:
        // A fault while reporting: what got out is what there is.
        platform_exit_after_panic();
    case PanicClaim::Other:
        halt_forever();
    }
    stop_other_cpus(me);
    console_take_over_for_panic();
}

void panic_end(const char* reason, unsigned long frame_pointer)
{
    print_backtrace(frame_pointer != 0 ? frame_pointer : reinterpret_cast<unsigned long>(__builtin_frame_address(0)));
    console_print_unlocked("KERNEL PANIC: %s\n", reason);
    console_flush_sinks();
    platform_exit_after_panic();
}

bool panic_stopping_this_cpu()
{
    uint32_t cpu = 0;
    return ending_panicking_cpu(cpu) && cpu != arch::this_cpu_local().index;
}

void panic(const char* fmt, ...)
{
    panic_begin();
    char message[256];
    va_list args;
    va_start(args, fmt);
    vformat(message, sizeof(message), fmt, args);
    va_end(args);
    console_print_unlocked("\nKERNEL PANIC: %s on CPU %u\n", message, arch::this_cpu_local().index);
    print_backtrace();
    console_flush_sinks();
    platform_exit_after_panic();
}

void verify_failed(const char* expression, const char* file, int line)
{
    panic("VERIFY(%s) failed at %s:%d", expression, file, line);
}

} // namespace tessera
