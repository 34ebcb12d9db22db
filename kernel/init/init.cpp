#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/init/init.h>

extern "C" {
// arch/x86_64/linker.ld: every .kinit.<level> section, sorted by name.
extern const tessera::InitFunction __start_kinit[];
extern const tessera::InitFunction __stop_kinit[];
}

namespace tessera {

namespace {

// Written by the boot CPU only, one level at a time.
constinit InitLevel s_completed[init_level_count] {};
constinit size_t s_completed_count = 0;

void report_failure(const InitFunction& function, const Error& error)
{
    const char* what = error.what() != nullptr ? error.what() : "failed";
    if (function.policy == InitPolicy::Fatal)
        errorln("init: %s (%s level): %s (%s)", function.name, init_level_name(function.level), what,
            errno_name(error.code()));
    else
        warnln("init: %s (%s level): %s (%s); going on without it", function.name, init_level_name(function.level),
            what, errno_name(error.code()));
}

} // namespace

void run_init_level(InitLevel level, uint8_t node_roles)
{
    auto result = run_init_functions(__start_kinit, __stop_kinit, level, node_roles, report_failure);
    if (result.fatal != nullptr)
        panic("init: %s failed at the %s level: %s", result.fatal->name, init_level_name(level),
            errno_name(result.fatal_error.code()));
    if (s_completed_count < init_level_count)
        s_completed[s_completed_count++] = level;
}

size_t init_levels_completed(InitLevel* levels, size_t capacity)
{
    size_t count = s_completed_count < capacity ? s_completed_count : capacity;
    for (size_t i = 0; i < count; ++i)
        levels[i] = s_completed[i];
    return count;
}

} // namespace tessera
