#pragma once
// The 16550 UART on COM1. It registers itself (serial_console.cpp): as a
// console sink at the early init level, and at the drivers level for its
// receive interrupt (ISA IRQ 4), whose bytes feed the console input queue.
// Output is polled so that it works in a panic.

#include <kernel/lib/kstd.h>

namespace tessera {

void serial_initialize();
void serial_write(const char* chars, size_t count);
// Returns -1 when no byte is waiting.
int serial_try_read();
// Waits (bounded) until the transmitter is empty.
void serial_flush();
void serial_enable_receive_interrupt();

constexpr uint8_t serial_irq = 4;

} // namespace tessera
