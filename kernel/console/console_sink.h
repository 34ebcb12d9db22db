#pragma once
// Where console output goes. A device driver registers a sink (the serial
// driver does at the early init level); the console writes every line to
// every sink, one whole line per write call, never two lines interleaved.

#include <kernel/lib/kstd.h>

namespace tessera {

struct ConsoleSink {
    const char* name;
    // Writes `count` bytes (a newline is "\n"; the sink adds what its device
    // needs). Called from any context, also during a panic: must not take
    // locks or sleep, and must give up on a device that does not respond.
    void (*write)(const char* chars, size_t count);
    // Waits (bounded) until written bytes have left the device; may be null.
    void (*flush)();
};

// `sink` must live forever. What was printed before the first sink
// registered (kept in the log ring) goes out to it now.
void console_register_sink(const ConsoleSink& sink);

} // namespace tessera
