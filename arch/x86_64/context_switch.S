// void context_switch(uint64_t* save_rsp, uint64_t load_rsp, atomic<bool>* old_on_cpu)
// Saves the callee-saved registers on the current stack, stores the stack
// pointer, releases the old thread (x86 stores are release stores), then
// loads the next thread's stack and returns into it.
.section .text
.global context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movb $0, (%rdx)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

// First code of every new thread: the initial frame built by
// prepare_initial_context() returns here with rsp 16-byte aligned and the
// thread's entry in rbx.
.global thread_trampoline
thread_trampoline:
    xorl %ebp, %ebp
    call *%rbx
    ud2
