#pragma once
// What a booted node does: report what it found, then run its mode
// (an interactive shell, "ready" to serve, "boot-bench" to time the boot,
// or the selftests).

#include <kernel/config/lib/node_config.h>

namespace tessera {

[[noreturn]] void node_run(const NodeConfig& config);

} // namespace tessera
