// Multiboot2 entry: GRUB jumps here in 32-bit protected mode with paging
// off, eax = magic, ebx = physical address of the boot information. We check
// for long mode, build just enough page tables (identity + physmap of the
// first 4 GiB, kernel image at -2 GiB), enter long mode and jump to
// kernel_main in the higher half. Everything else is done in C++.
#include <arch/memory_layout.h>

#define PHYS(x) ((x) - KERNEL_VIRTUAL_BASE)
#define COM1 0x3f8

.section .multiboot2, "a"
.align 8
multiboot2_header:
    .long 0xe85250d6                      // magic
    .long 0                               // architecture: i386 protected mode
    .long multiboot2_header_end - multiboot2_header
    .long -(0xe85250d6 + (multiboot2_header_end - multiboot2_header))
    // Entry address tag: the physical address GRUB jumps to.
    .align 8
    .short 3, 0
    .long 12
    .long PHYS(_start)
    // End tag.
    .align 8
    .short 0, 0
    .long 8
multiboot2_header_end:

.section .boot.text, "ax"
.code32
.global _start
_start:
    cli
    cld
    movl $PHYS(boot_stack_top), %esp
    movl %eax, %edi                      // keep magic and info for kernel_main
    movl %ebx, %esi

    // Long mode needs CPUID leaf 0x80000001 EDX bit 29 [intel/vol2]: CPUID.
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    testl $(1 << 29), %edx
    jz no_long_mode
    movl %edx, %ebp                      // bit 20: NX available

    // PML4: [0] identity, [256] physmap, [511] kernel image.
    movl $PHYS(boot_pdpt_low), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pml4)
    movl %eax, PHYS(boot_pml4) + 256 * 8
    movl $PHYS(boot_pdpt_high), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pml4) + 511 * 8

    // Low PDPT: four page directories cover 4 GiB.
    movl $PHYS(boot_pd), %eax
    orl $0x3, %eax
    movl $PHYS(boot_pdpt_low), %ebx
    movl $4, %ecx
1:  movl %eax, (%ebx)
    addl $4096, %eax
    addl $8, %ebx
    loop 1b
    // High PDPT: entry 510 (-2 GiB) maps the first GiB again.
    movl $PHYS(boot_pd), %eax
    orl $0x3, %eax
    movl %eax, PHYS(boot_pdpt_high) + 510 * 8

    // 2048 directory entries of 2 MiB pages: present, writable, huge.
    movl $PHYS(boot_pd), %ebx
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, (%ebx, %ecx, 8)
    movl %ecx, %eax
    shrl $11, %eax                       // high half of the physical address
    movl %eax, 4(%ebx, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    // PAE + PGE, then CR3.
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 7)), %eax
    movl %eax, %cr4
    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3

    // EFER: long mode enable, and no-execute enable where the CPU has it.
    movl $0xc0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    testl $(1 << 20), %ebp
    jz 3f
    orl $(1 << 11), %eax
3:  wrmsr

    // Paging on, write protection honoured in ring 0.
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16)), %eax
    movl %eax, %cr0

    lgdt PHYS(boot_gdt_pointer)
    ljmp $0x08, $PHYS(long_mode_entry)

no_long_mode:
    movl $PHYS(no_long_mode_message), %esi
4:  lodsb
    testb %al, %al
    jz 6f
    movw $COM1 + 5, %dx                  // wait for the transmitter
5:  inb %dx, %al
    testb $0x20, %al
    jz 5b
    movb -1(%esi), %al
    movw $COM1, %dx
    outb %al, %dx
    jmp 4b
6:  movb $0x13, %al                      // isa-debug-exit: boot refused
    outb %al, $0xf4
7:  hlt
    jmp 7b

.code64
long_mode_entry:
    movabsq $higher_half_entry, %rax
    jmp *%rax

.section .text
higher_half_entry:
    // Point GDTR at the GDT's higher-half address: the low identity map
    // goes away when the kernel's page tables are loaded.
    lgdt boot_gdt_pointer_virtual
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    // rdi = magic, rsi = physical address of the boot information.
    movl %edi, %edi
    movl %esi, %esi
    call kernel_main
8:  cli
    hlt
    jmp 8b

.section .rodata
no_long_mode_message:
    .asciz "\r\nTessera: this CPU has no 64-bit long mode; cannot boot.\r\n"

.align 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff             // 0x08: 64-bit code
    .quad 0x00cf92000000ffff             // 0x10: data
boot_gdt_end:
boot_gdt_pointer:
    .short boot_gdt_end - boot_gdt - 1
    .long PHYS(boot_gdt)
boot_gdt_pointer_virtual:
    .short boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

.section .boot.bss, "aw", @nobits
.align 4096
.global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4096 * 4
// An unmapped page below the boot stack once the kernel's page tables are
// live, so an overflow faults instead of overwriting the page tables.
.global boot_stack_guard
boot_stack_guard:
    .skip 4096
.global boot_stack_bottom
boot_stack_bottom:
    .skip 16384
.global boot_stack_top
boot_stack_top:
