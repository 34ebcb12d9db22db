#!/usr/bin/env bash
# make run: boot one Tessera node in QEMU with its shell on this terminal.
# SMP, MEM, FIRMWARE and CONFIG_TEXT (run-time settings) may be set.
set -euo pipefail
iso=${1:-build/tessera.iso}
args=(--iso "$iso" --smp "${SMP:-2}" --memory "${MEM:-256M}" --firmware "${FIRMWARE:-bios}")
if [ -n "${CONFIG_TEXT:-}" ]; then
    args+=(--config "$CONFIG_TEXT")
fi
status=0
tools/tessera-qemu "${args[@]}" || status=$?
# The shell's poweroff ends QEMU through isa-debug-exit with the success
# code (0x10 -> status 33); anything else is passed on.
if [ "$status" -eq 33 ]; then
    status=0
fi
exit "$status"
