#!/usr/bin/env bash
# make gdb: start QEMU halted with a gdb stub on 127.0.0.1, then gdb with the
# kernel's symbols, stopped at kernel_main. QEMU ends when gdb exits.
set -euo pipefail
iso=${1:-build/tessera.iso}
elf=${2:-build/tessera.elf}
port=${GDB_PORT:-1234}
log=build/gdb-serial.log
tools/tessera-qemu --iso "$iso" --smp "${SMP:-1}" --memory "${MEM:-256M}" --gdb "$port" \
    </dev/null >"$log" 2>&1 &
qemu_pid=$!
trap 'kill "$qemu_pid" 2>/dev/null || true' EXIT
echo "gdb: QEMU (pid $qemu_pid) waits on 127.0.0.1:$port; serial output goes to $log"
# GRUB starts in 32-bit mode; the kernel runs in 64-bit mode. A hardware
# breakpoint at kernel_main stops once the kernel is in long mode.
gdb -q "$elf" \
    -ex "set architecture i386:x86-64" \
    -ex "target remote 127.0.0.1:$port" \
    -ex "hbreak kernel_main" \
    -ex "continue" \
    ${GDB_EXTRA:-}
