#pragma once
// Init levels: code below the core (drivers, the fabric, monitors) starts
// itself by registering a function in the .kinit.<level> linker section, so
// kernel_main never names it. Adding a driver is adding one file:
//
//   ErrorOr<void> serial_init() { ... }
//   INIT_FUNCTION(early, serial, serial_init, Fatal);
//   MONITOR_FUNCTION(storage_monitor, storage_monitor_start, Role::Storage);
//
// The level is one of early, platform, interrupts, drivers, fabric, monitors,
// late (InitLevel in lib/init_function.h says what each may rely on); the
// policy Fatal or Optional says whether a failure stops the boot. Within a
// level, functions run in link order: anything that needs an order between
// two functions belongs in two levels.

#include <kernel/config/lib/node_config.h>
#include <kernel/init/lib/init_function.h>

namespace tessera {

// Runs every function registered for `level` (Monitors: those matching the
// node's roles). A failure prints the function's name and error; a Fatal
// one panics.
void run_init_level(InitLevel level, uint8_t node_roles);

// The levels that have finished, in the order they ran (selftests check it).
size_t init_levels_completed(InitLevel* levels, size_t capacity);

} // namespace tessera

#define TESSERA_INIT_SECTION_early ".kinit.0"
#define TESSERA_INIT_SECTION_platform ".kinit.1"
#define TESSERA_INIT_SECTION_interrupts ".kinit.2"
#define TESSERA_INIT_SECTION_drivers ".kinit.3"
#define TESSERA_INIT_SECTION_fabric ".kinit.4"
#define TESSERA_INIT_SECTION_monitors ".kinit.5"
#define TESSERA_INIT_SECTION_late ".kinit.6"
#define TESSERA_INIT_LEVEL_early ::tessera::InitLevel::Early
#define TESSERA_INIT_LEVEL_platform ::tessera::InitLevel::Platform
#define TESSERA_INIT_LEVEL_interrupts ::tessera::InitLevel::Interrupts
#define TESSERA_INIT_LEVEL_drivers ::tessera::InitLevel::Drivers
#define TESSERA_INIT_LEVEL_fabric ::tessera::InitLevel::Fabric
#define TESSERA_INIT_LEVEL_monitors ::tessera::InitLevel::Monitors
#define TESSERA_INIT_LEVEL_late ::tessera::InitLevel::Late

// The explicit alignment keeps the section a plain array (as for selftest
// suites): GCC may otherwise pad between records.
#define TESSERA_INIT_RECORD(level, init_name, init_function, init_policy, init_roles)                                  \
    [[gnu::section(TESSERA_INIT_SECTION_##level), gnu::used,                                                           \
        gnu::aligned(alignof(::tessera::InitFunction))]] static const ::tessera::InitFunction init_name##_init_record  \
        = { #init_name, init_function, TESSERA_INIT_LEVEL_##level, ::tessera::InitPolicy::init_policy, init_roles }

#define INIT_FUNCTION(level, init_name, init_function, init_policy)                                                    \
    TESSERA_INIT_RECORD(level, init_name, init_function, init_policy, 0)

// A monitor (manager) of the node: started in `ready` mode on nodes with any
// of `roles` (a Role or Role bits or-ed as uint8_t). Failing stops the boot.
#define MONITOR_FUNCTION(init_name, init_function, roles)                                                              \
    TESSERA_INIT_RECORD(monitors, init_name, init_function, Fatal, static_cast<uint8_t>(roles))
