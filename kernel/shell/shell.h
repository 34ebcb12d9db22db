#pragma once
// A small interactive shell on the serial console (`make run`): uptime,
// CPUs, memory, configuration, poweroff.

namespace tessera {

[[noreturn]] void shell_run();

} // namespace tessera
