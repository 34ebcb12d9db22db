#pragma once
// panic(): print the reason, the registers where known and a symbolized
// backtrace, then end the run (ExitCode::Panic). Used for states the kernel
// cannot continue from; never for bad outside input.
//
// One path for every CPU and for exceptions (arch/x86_64/idt.cpp): the first
// CPU to panic stops the others with an NMI, takes the console over and
// prints alone; a second CPU that panics halts silently. From the moment a
// panic begins no exit can report success (kernel/platform/ending.h).

#include <kernel/lib/kstd.h>

namespace tessera {

[[noreturn, gnu::format(printf, 1, 2)]] void panic(const char* fmt, ...);

// The two halves of panic(), for reports that print more than a message
// (the exception handler). panic_begin() returns only on the CPU that
// reports; panic_end() prints the backtrace from `frame_pointer` (0: the
// caller's) and a final "KERNEL PANIC: <reason>" line, then exits.
void panic_begin();
[[noreturn]] void panic_end(const char* reason, unsigned long frame_pointer = 0);

// For the NMI handler: true when another CPU reports a panic and this one
// must stop.
bool panic_stopping_this_cpu();

// Prints "  #N 0xADDR symbol+0xOFF" lines for the frame-pointer chain
// starting at `frame_pointer` (0 = the caller's).
void print_backtrace(unsigned long frame_pointer = 0);

} // namespace tessera
