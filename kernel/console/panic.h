#pragma once
// panic(): print the reason, the registers where known and a symbolized
// backtrace, then end the run (QEMU exits with ExitCode::Panic). Used for
// states the kernel cannot continue from; never for bad outside input.

namespace tessera {

[[noreturn, gnu::format(printf, 1, 2)]] void panic(const char* fmt, ...);

// Prints "  #N 0xADDR symbol+0xOFF" lines for the frame-pointer chain
// starting at `frame_pointer` (0 = the caller's).
void print_backtrace(unsigned long frame_pointer = 0);

} // namespace tessera
