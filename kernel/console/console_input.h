#pragma once
// Console input: bytes a device driver receives (drivers/serial feeds it
// from its interrupt handler) wait here for a reader (the shell).

#include <kernel/lib/kstd.h>

namespace tessera {

// From interrupt context. Bytes beyond the queue's room are dropped.
void console_input_push(const char* bytes, size_t count);
// Blocks the calling thread until a byte arrives.
char console_input_read();

} // namespace tessera
