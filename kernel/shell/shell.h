#pragma once
// A small interactive shell on the serial console (`make run`): uptime,
// CPUs, memory, interrupt counters, configuration, poweroff. Input comes
// from the console input queue (kernel/console/console_input.h).

#include <kernel/lib/error_or.h>

namespace tessera {

[[noreturn]] void shell_run();

// A command added by a part the kernel may not name (the network stack's
// `net`), registered at its init level before the shell starts. `name` and
// `help` must be string literals. ENOSPC when the table is full, EEXIST for
// a name taken.
using ShellCommandFunction = void (*)();
ErrorOr<void> shell_register_command(const char* name, const char* help, ShellCommandFunction function);

} // namespace tessera
