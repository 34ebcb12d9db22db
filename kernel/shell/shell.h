#pragma once
// A small interactive shell on the serial console (`make run`): uptime,
// CPUs, memory, interrupt counters, configuration, poweroff. Input comes
// from the console input queue (kernel/console/console_input.h).

namespace tessera {

[[noreturn]] void shell_run();

} // namespace tessera
