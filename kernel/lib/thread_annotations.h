#pragma once
// Clang's thread-safety annotations, so that `make kernel-clang`
// (-Wthread-safety) proves at compile time that guarded data is touched only
// with its lock held. GCC has no such analysis: there they expand to nothing.
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html for the meaning
// of each attribute; docs/style.md says when to use them.

#if defined(__clang__)
#    define TA_ATTRIBUTE(x) __attribute__((x))
#else
#    define TA_ATTRIBUTE(x)
#endif

// A type that is a lock (a "capability"); the name appears in diagnostics.
#define TA_CAPABILITY(name) TA_ATTRIBUTE(capability(name))
// An RAII type that holds a capability for its lifetime (the lock guards).
#define TA_SCOPED_CAPABILITY TA_ATTRIBUTE(scoped_lockable)
// A member or global that may be read or written only with `lock` held.
#define TA_GUARDED_BY(lock) TA_ATTRIBUTE(guarded_by(lock))
// A pointer whose pointee may be touched only with `lock` held.
#define TA_PT_GUARDED_BY(lock) TA_ATTRIBUTE(pt_guarded_by(lock))
// A function that must be called with these locks held.
#define TA_REQUIRES(...) TA_ATTRIBUTE(requires_capability(__VA_ARGS__))
// A function that must be called with these locks not held.
#define TA_EXCLUDES(...) TA_ATTRIBUTE(locks_excluded(__VA_ARGS__))
// A function that takes (or releases) these locks; with no argument, `this`.
#define TA_ACQUIRE(...) TA_ATTRIBUTE(acquire_capability(__VA_ARGS__))
#define TA_RELEASE(...) TA_ATTRIBUTE(release_capability(__VA_ARGS__))
// The lock implementations themselves, which the analysis cannot follow.
#define TA_NO_THREAD_SAFETY_ANALYSIS TA_ATTRIBUTE(no_thread_safety_analysis)
