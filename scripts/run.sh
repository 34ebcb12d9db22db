#!/usr/bin/env bash
# make run: boot one Tessera node in QEMU with its shell on this terminal.
# SMP, MEM, FIRMWARE and CONFIG_TEXT (run-time settings) may be set.
set -euo pipefail
iso=${1:-build/tessera.iso}
args=(--iso "$iso" --smp "${SMP:-2}" --memory "${MEM:-256M}" --firmware "${FIRMWARE:-bios}")
if [ -n "${CONFIG_TEXT:-}" ]; then
    args+=(--config "$CONFIG_TEXT")
fi
exec tools/tessera-qemu "${args[@]}"
