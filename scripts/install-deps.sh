#!/usr/bin/env bash
# Installs every package Tessera needs to build, run, test and benchmark, with
# apt-get (Debian 12). Idempotent: with --if-missing it only checks, and runs
# apt-get only when something is absent. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
    make g++ gcc libc6-dev binutils cmake python3
    libgtest-dev
    kconfig-frontends
    grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
    qemu-system-x86 ovmf
    gdb clang clang-format clang-tidy
    linux-image-amd64
    git ca-certificates
    linux-source-6.1
    # The Linux peer guest (tools/linux-peer) and its test programs.
    rdma-core ibverbs-providers ibverbs-utils rdmacm-utils perftest
    libibverbs-dev librdmacm-dev busybox-static iproute2
    # vde_switch: one node beside a Linux guest by hand (net/rdma/rping/README.md).
    vde2
)

# One probe per package: a file it installs.
declare -A PROBE=(
    [make]=/usr/bin/make [g++]=/usr/bin/g++ [gcc]=/usr/bin/gcc [libc6-dev]=/usr/lib/x86_64-linux-gnu/libc.a
    [binutils]=/usr/bin/nm [cmake]=/usr/bin/cmake [python3]=/usr/bin/python3
    [libgtest-dev]=/usr/include/gtest/gtest.h [kconfig-frontends]=/usr/bin/kconfig-conf
    [grub-common]=/usr/bin/grub-mkrescue [grub-pc-bin]=/usr/lib/grub/i386-pc/multiboot2.mod
    [grub-efi-amd64-bin]=/usr/lib/grub/x86_64-efi/multiboot2.mod [xorriso]=/usr/bin/xorriso
    [mtools]=/usr/bin/mformat [qemu-system-x86]=/usr/bin/qemu-system-x86_64 [ovmf]=/usr/share/ovmf/OVMF.fd
    [gdb]=/usr/bin/gdb [clang]=/usr/bin/clang++ [clang-format]=/usr/bin/clang-format [clang-tidy]=/usr/bin/clang-tidy
    [linux-image-amd64]=/boot [git]=/usr/bin/git [ca-certificates]=/etc/ssl/certs
    # Linux's KTAP parser (tools/testing/kunit) checks our runner's verdicts.
    [linux-source-6.1]=/usr/src/linux-source-6.1.tar.xz
    [rdma-core]=/usr/share/doc/rdma-core [ibverbs-providers]=/etc/libibverbs.d/rxe.driver
    [vde2]=/usr/bin/vde_switch
    [ibverbs-utils]=/usr/bin/ibv_devinfo [rdmacm-utils]=/usr/bin/rping [perftest]=/usr/bin/ib_write_bw
    [libibverbs-dev]=/usr/include/infiniband/verbs.h [librdmacm-dev]=/usr/include/rdma/rdma_cma.h
    [busybox-static]=/bin/busybox [iproute2]=/usr/bin/rdma
)

missing=()
for package in "${PACKAGES[@]}"; do
    probe=${PROBE[$package]}
    if [ "$package" = linux-image-amd64 ]; then
        compgen -G '/boot/vmlinuz-*' >/dev/null || missing+=("$package")
    elif [ ! -e "$probe" ]; then
        missing+=("$package")
    fi
done

if [ "${1:-}" = "--if-missing" ] && [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    if [ ${#missing[@]} -eq 0 ]; then echo "all dependencies present"; exit 0; fi
    echo "missing: ${missing[*]}"; exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
# linux-image-amd64 pulls in initramfs-tools; without recommends it stays small.
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: done"
