#pragma once
// One boot step that registered itself (see kernel/init/init.h for the
// macros). Portable so that the level runner is host-tested.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

// The levels run in this order, each after the kernel services it needs:
enum class InitLevel : uint8_t {
    Early = 0, // before memory: console sinks, exit hooks, boot configuration sources
    Platform = 1, // memory and paging up: firmware tables (ACPI) describe the machine
    Interrupts = 2, // interrupt controllers from the platform description
    Drivers = 3, // scheduler and timers up, interrupts about to be enabled: devices
    Fabric = 4, // every CPU online: network devices and the fabric
    Monitors = 5, // `ready` mode only: the node's managers, filtered by its roles
    Late = 6, // last, before the node runs its mode
};
constexpr size_t init_level_count = 7;

// Whether a failure stops the boot.
enum class InitPolicy : uint8_t {
    Fatal,
    Optional, // reported as a warning; the boot goes on without it
};

struct InitFunction {
    const char* name;
    ErrorOr<void> (*function)();
    InitLevel level;
    InitPolicy policy;
    // Monitors only: runs when the node has any of these roles (bits of Role).
    uint8_t roles;
};

const char* init_level_name(InitLevel level);

struct InitLevelResult {
    size_t ran { 0 };
    size_t skipped_by_role { 0 };
    size_t failed { 0 };
    // The first failing Fatal function, if any; nothing after it ran.
    const InitFunction* fatal { nullptr };
    Error fatal_error { Errno::INVAL };
};

// Called for every failure (fatal or not) as it happens.
using InitFailureReporter = void (*)(const InitFunction& function, const Error& error);

// Runs, in array order, every function of `level` in [begin, end) whose
// roles (for Monitors) match `node_roles`; stops at the first fatal failure.
InitLevelResult run_init_functions(const InitFunction* begin, const InitFunction* end, InitLevel level,
    uint8_t node_roles, InitFailureReporter report);

} // namespace tessera
