#pragma once
// The kernel's virtual address space. Shared with assembly, so only macros.
//
//   0xffff800000000000  physmap: all physical memory, 2 MiB pages, NX
//   0xffffc00000000000  MMIO window: uncached 4 KiB mappings of device registers
//   0xffffe00000000000  kernel stacks: each with an unmapped guard page below it
//   0xffffffff80000000  kernel image (-mcmodel=kernel), loaded at 1 MiB physical

#define KERNEL_VIRTUAL_BASE 0xffffffff80000000
#define KERNEL_PHYSICAL_LOAD 0x100000
#define PHYSMAP_BASE 0xffff800000000000
#define MMIO_WINDOW_BASE 0xffffc00000000000
#define MMIO_WINDOW_SIZE 0x0000000040000000
#define KERNEL_STACKS_BASE 0xffffe00000000000
#define KERNEL_STACKS_SIZE 0x0000001000000000
// The boot page tables map this much physical memory into the physmap.
#define BOOT_PHYSMAP_SIZE 0x100000000
