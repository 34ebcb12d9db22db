#pragma once
// The 16550 UART on COM1: the kernel console. Output is polled (it must work
// in a panic); input arrives by interrupt once the IOAPIC routes IRQ 4.

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
