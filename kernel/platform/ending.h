#pragma once
// The single word that decides how a run ends, shared by platform_exit()
// and panic(). States move only forward:
//
//   Running --exit claims--> Exiting --about to call the hooks--> Exited
//   Running or Exiting (or Exited) --panic claims--> Panicking(cpu)
//
// An exit claims with a compare-exchange from Running and, after flushing
// the console, moves Exiting -> Exited with another compare-exchange right
// before the exit hook. A panic exchanges in Panicking(cpu) from Running or
// Exiting. So a panic that starts before the exiting CPU's last step makes
// that step fail and the exiting CPU halt; only a panic that starts after
// the success exit is already being written to the device can lose, and
// then the run has already ended.

#include <kernel/platform/lib/ending_state.h>

namespace tessera {

// Interrupts must be off (the CPU index must not change).
PanicClaim ending_claim_panic(uint32_t cpu_index);
bool ending_panic_in_progress();
// The CPU reporting the panic, if one is.
bool ending_panicking_cpu(uint32_t& cpu_index);

// platform_exit()'s two steps; false means a panic or another exit won.
bool ending_claim_exit();
bool ending_commit_exit();

} // namespace tessera
