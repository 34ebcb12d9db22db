#pragma once
// Console log levels, shared by the console and the run-time configuration
// (`tessera.loglevel=`).

#include <kernel/lib/kstd.h>

namespace tessera {

enum class LogLevel : uint8_t {
    Debug,
    Info,
    Warn,
    Error,
};

} // namespace tessera
