#include <drivers/serial/serial.h>

#include <arch/io.h>

namespace tessera {

namespace {

// 16550 registers, offsets from the base port. [ns16550 datasheet]: table 2.
constexpr uint16_t com1 = 0x3f8;
constexpr uint16_t data = 0;
constexpr uint16_t interrupt_enable = 1;
constexpr uint16_t fifo_control = 2;
constexpr uint16_t line_control = 3;
constexpr uint16_t modem_control = 4;
constexpr uint16_t line_status = 5;
constexpr uint8_t line_status_data_ready = 0x01;
constexpr uint8_t line_status_transmit_empty = 0x20;
constexpr uint8_t line_status_transmitter_idle = 0x40;

void put_byte(uint8_t byte)
{
    // Bounded wait: a missing UART must not hang the kernel.
    for (int spins = 0; spins < 100000; ++spins) {
        if (arch::in8(com1 + line_status) & line_status_transmit_empty)
            break;
    }
    arch::out8(com1 + data, byte);
}

} // namespace

void serial_initialize()
{
    arch::out8(com1 + interrupt_enable, 0x00);
    arch::out8(com1 + line_control, 0x80); // divisor latch
    arch::out8(com1 + data, 0x01); // 115200 baud
    arch::out8(com1 + interrupt_enable, 0x00);
    arch::out8(com1 + line_control, 0x03); // 8n1
    // FIFO on and cleared, interrupt at every byte: a console wants each
    // keystroke now, not after 14 of them.
    arch::out8(com1 + fifo_control, 0x07);
    arch::out8(com1 + modem_control, 0x0b); // DTR, RTS, OUT2 (IRQ line enable)
}

void serial_enable_receive_interrupt() { arch::out8(com1 + interrupt_enable, 0x01); }

void serial_write(const char* chars, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if (chars[i] == '\n')
            put_byte('\r');
        put_byte(static_cast<uint8_t>(chars[i]));
    }
}

void serial_flush()
{
    for (int spins = 0; spins < 1000000; ++spins) {
        if (arch::in8(com1 + line_status) & line_status_transmitter_idle)
            return;
    }
}

int serial_try_read()
{
    if ((arch::in8(com1 + line_status) & line_status_data_ready) == 0)
        return -1;
    return arch::in8(com1 + data);
}

} // namespace tessera
