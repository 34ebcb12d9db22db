// The serial port's place in the kernel: the console's sink, and the
// source of console input. Nothing in the core names this file.
#include <arch/cpu.h>
#include <drivers/serial/serial.h>
#include <kernel/console/console_input.h>
#include <kernel/console/console_sink.h>
#include <kernel/init/init.h>
#include <kernel/irq/irq.h>

namespace tessera {

namespace {

constexpr ConsoleSink s_sink { "serial", serial_write, serial_flush };

ErrorOr<void> serial_console_init()
{
    serial_initialize();
    console_register_sink(s_sink);
    return {};
}

// Moves every byte the UART holds into the console input queue.
void receive(void*)
{
    char bytes[16];
    size_t count = 0;
    for (int c = serial_try_read(); c >= 0; c = serial_try_read()) {
        bytes[count++] = static_cast<char>(c);
        if (count == sizeof(bytes)) {
            console_input_push(bytes, count);
            count = 0;
        }
    }
    console_input_push(bytes, count);
}

ErrorOr<void> serial_input_init()
{
    TRY(irq_route_isa(serial_irq, "serial", receive, nullptr));
    serial_enable_receive_interrupt();
    // Bytes that arrived before the interrupt was enabled raise no interrupt.
    bool interrupts = arch::save_and_disable_interrupts();
    receive(nullptr);
    arch::restore_interrupts(interrupts);
    return {};
}

} // namespace

INIT_FUNCTION(early, serial_console, serial_console_init, Fatal);
// Without it the node runs, but the shell gets no input.
INIT_FUNCTION(drivers, serial_input, serial_input_init, Optional);

} // namespace tessera
