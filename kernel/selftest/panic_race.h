#pragma once
// tessera.inject=panic-race: a thread pinned to CPU 1 calls panic() just as
// CPU 0, having printed the success line, takes the success exit. Once a
// panic has started no success exit may happen, so the run must fail every
// time; a run that passes shows the race in the panic path.

#include <kernel/lib/error_or.h>

namespace tessera {

// Starts the panicking thread (needs a second CPU); it waits for the signal.
ErrorOr<void> panic_race_arm();
// Called by the runner between the success line and the success exit: if
// armed, lets the thread go and waits (bounded) until it calls panic().
void panic_race_before_success_exit();

} // namespace tessera
