#include <kernel/init/lib/init_function.h>

namespace tessera {

const char* init_level_name(InitLevel level)
{
    switch (level) {
    case InitLevel::Early:
        return "early";
    case InitLevel::Platform:
        return "platform";
    case InitLevel::Interrupts:
        return "interrupts";
    case InitLevel::Drivers:
        return "drivers";
    case InitLevel::Fabric:
        return "fabric";
    case InitLevel::Monitors:
        return "monitors";
    case InitLevel::Late:
        return "late";
    }
    return "?";
}

InitLevelResult run_init_functions(
    const InitFunction* begin, const InitFunction* end, InitLevel level, uint8_t node_roles, InitFailureReporter report)
{
    InitLevelResult result;
    for (const InitFunction* function = begin; function != end; ++function) {
        if (function->level != level)
            continue;
        if (level == InitLevel::Monitors && (function->roles & node_roles) == 0) {
            ++result.skipped_by_role;
            continue;
        }
        ++result.ran;
        auto outcome = function->function();
        if (!outcome.is_error())
            continue;
        ++result.failed;
        if (report != nullptr)
            report(*function, outcome.error());
        if (function->policy == InitPolicy::Fatal) {
            result.fatal = function;
            result.fatal_error = outcome.error();
            return result;
        }
    }
    return result;
}

} // namespace tessera
