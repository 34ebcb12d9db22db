// One stub per vector: push a zero error code where the CPU does not push
// one, push the vector, save the general registers (RegisterState in
// <arch/interrupts.h>) and call interrupt_dispatch(RegisterState&).
// Kernel-only for now: no swapgs, since nothing runs in ring 3 yet.

.macro STUB vector
.align 16
interrupt_stub_\vector:
.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
.else
    pushq $0
.endif
    pushq $\vector
    jmp interrupt_common
.endm

.section .text
.align 16
interrupt_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    // Make a frame-pointer link so backtraces continue into the
    // interrupted code: [rbp] = interrupted rbp, [rbp+8] = interrupted rip.
    pushq 17*8(%rsp)                     // rip
    pushq 9*8(%rsp)                      // rbp (index 8, one push ago)
    movq %rsp, %rbp
    call interrupt_dispatch
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp                       // vector and error code
    iretq

.altmacro
.macro STUBS from, to
    STUB \from
.if \to-\from
    STUBS %(\from+1), \to
.endif
.endm
    STUBS 0, 63
    STUBS 64, 127
    STUBS 128, 191
    STUBS 192, 255

.macro STUB_ADDRESS vector
    .quad interrupt_stub_\vector
.endm
.macro STUB_ADDRESSES from, to
    STUB_ADDRESS %(\from)
.if \to-\from
    STUB_ADDRESSES %(\from+1), \to
.endif
.endm

.section .rodata
.align 8
.global interrupt_stub_table
interrupt_stub_table:
    STUB_ADDRESSES 0, 63
    STUB_ADDRESSES 64, 127
    STUB_ADDRESSES 128, 191
    STUB_ADDRESSES 192, 255

// Probes: a faulting access at a *_access label resumes at its *_fixup
// label (the page-fault handler looks them up), returning false.
.section .text
.global probe_read_asm
probe_read_asm:                          // bool probe_read_asm(const volatile uint8_t*)
.global probe_read_access
probe_read_access:
    movb (%rdi), %al
    movl $1, %eax
    ret
.global probe_read_fixup
probe_read_fixup:
    xorl %eax, %eax
    ret

.global probe_write_asm
probe_write_asm:                         // bool probe_write_asm(volatile uint8_t*, uint8_t)
.global probe_write_access
probe_write_access:
    movb %sil, (%rdi)
    movl $1, %eax
    ret
.global probe_write_fixup
probe_write_fixup:
    xorl %eax, %eax
    ret
