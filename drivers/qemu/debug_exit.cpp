#include <drivers/qemu/debug_exit.h>

#include <arch/cpu.h>
#include <arch/io.h>
#include <drivers/serial/serial.h>

namespace tessera {

void exit_qemu(ExitCode code)
{
    arch::disable_interrupts();
    // Let the UART send what is queued, or the run's last lines are lost.
    serial_flush();
    arch::out8(0xf4, static_cast<uint8_t>(code));
    // Not under QEMU (or no debug-exit device): stop here.
    for (;;)
        arch::halt();
}

} // namespace tessera
