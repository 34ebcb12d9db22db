#pragma once
// Commands the layers above the core add to the shell (the core names no
// driver or stack): `net` comes from net/device. Register at any init level
// (on the boot CPU) before the shell runs; a handful fit.

#include <kernel/lib/error_or.h>

namespace tessera {

using ShellCommandFunction = void (*)();

// ENOSPC when the table is full, EEXIST for a name already taken.
ErrorOr<void> shell_register_command(const char* name, ShellCommandFunction function);

// The function registered under `name`, or nullptr.
ShellCommandFunction shell_find_command(const char* name);
// Appends ", name" for each registered command (for `help`).
void shell_print_registered_commands();

} // namespace tessera
