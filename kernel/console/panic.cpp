#include <arch/cpu.h>
#include <arch/paging.h>
#include <drivers/qemu/debug_exit.h>
#include <drivers/serial/serial.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/debug/symbols.h>
#include <kernel/lib/format.h>

namespace tessera {

namespace {

constinit kstd::atomic<bool> s_panicking { false };

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

void panic(const char* fmt, ...)
{
    arch::disable_interrupts();
    if (s_panicking.exchange(true)) {
        // Another CPU is already reporting; it will end the run.
        for (;;)
            arch::halt();
    }
    char message[256];
    va_list args;
    va_start(args, fmt);
    vformat(message, sizeof(message), fmt, args);
    va_end(args);
    console_print_unlocked("\nKERNEL PANIC: %s\n", message);
    print_backtrace();
    exit_qemu(ExitCode::Panic);
}

void verify_failed(const char* expression, const char* file, int line)
{
    panic("VERIFY(%s) failed at %s:%d", expression, file, line);
}

} // namespace tessera
