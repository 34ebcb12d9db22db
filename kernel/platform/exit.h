#pragma once
// How a run ends: platform_exit() hands the verdict to whichever exit hook a
// driver registered (drivers/qemu/debug_exit: QEMU's isa-debug-exit), after
// the console has written out what it holds. Without a hook (real hardware)
// the CPU halts.
//
// A run ends once. The first platform_exit() or panic() decides; after a
// panic has begun, no other CPU's exit can report success (see ending.h).

#include <kernel/lib/kstd.h>

namespace tessera {

// The verdict a run reports (QEMU's isa-debug-exit turns v into status (v << 1) | 1).
enum class ExitCode : uint8_t {
    Success = 0x10, // QEMU status 33
    TestFailure = 0x11, // 35: a selftest failed
    Panic = 0x12, // 37: panic or unexpected exception
    BootRefused = 0x13, // 39: bad configuration, too little memory, no long mode
};

// Called with interrupts off and the console flushed; returns if it could
// not end the run (then the next hook, and finally a halt, follow).
using ExitHook = void (*)(ExitCode code);
void platform_register_exit_hook(ExitHook hook);

// Ends the run with `code`. If a panic or another exit is already under way
// the caller halts forever instead: the first ending wins.
[[noreturn]] void platform_exit(ExitCode code);

// For the panic path only (kernel/console/panic.cpp): the panicking CPU
// owns the ending already.
[[noreturn]] void platform_exit_after_panic();

} // namespace tessera
