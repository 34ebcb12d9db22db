// Application-processor start-up code. smp.cpp copies it to a free page
// below 1 MiB and fills the parameter block at its end; each AP starts here
// in real mode at (page << 12) after INIT-SIPI-SIPI, goes straight to long
// mode (real mode -> long mode with PE and PG set together), and jumps to
// the kernel's ap_entry with its stack. Everything is position independent:
// 16-bit code addresses data relative to CS, 64-bit code uses RIP.

#define OFFSET(label) ((label) - ap_trampoline_start)

.section .ap_trampoline, "ax"
.code16
.global ap_trampoline_start
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl OFFSET(ap_gdt_pointer)
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 7)), %eax     // PAE, PGE
    movl %eax, %cr4
    movl OFFSET(ap_cr3), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl OFFSET(ap_efer_bits), %eax       // LME, and NXE where supported
    wrmsr
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16) | 1), %eax // PG, WP, PE
    movl %eax, %cr0
    ljmpl *OFFSET(ap_far_jump)

.code64
.align 8
ap_long_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq ap_stack(%rip), %rsp
    movq ap_cpu_index(%rip), %rdi
    movq ap_entry(%rip), %rax
    xorl %ebp, %ebp
    call *%rax                           // ap_entry never returns; call keeps rsp ABI-aligned
    ud2

.align 16
ap_gdt:
    .quad 0
    .quad 0x00af9a000000ffff             // 0x08: 64-bit code
    .quad 0x00cf92000000ffff             // 0x10: data
ap_gdt_end:

// Parameter block, filled in by smp.cpp (offsets in <arch/smp_trampoline.h>).
.align 8
.global ap_parameters
ap_parameters:
ap_gdt_pointer:                          // +0: limit, +2: linear base (patched)
    .short ap_gdt_end - ap_gdt - 1
    .long 0
    .short 0
ap_far_jump:                             // +8: linear address of ap_long_mode (patched), selector
    .long 0
    .short 0x08
    .short 0
ap_cr3:                                  // +16
    .long 0
ap_efer_bits:                            // +20
    .long 0
ap_stack:                                // +24
    .quad 0
ap_entry:                                // +32
    .quad 0
ap_cpu_index:                            // +40
    .quad 0
.global ap_gdt_offset
.set ap_gdt_offset, ap_gdt - ap_trampoline_start
.global ap_long_mode_offset
.set ap_long_mode_offset, ap_long_mode - ap_trampoline_start
.global ap_trampoline_end
ap_trampoline_end:
