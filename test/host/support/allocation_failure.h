#pragma once
// Failure injection for host tests: while a FailAllocations scope is alive,
// the nothrow `operator new` (the only one kernel code may call) returns
// nullptr after `successes` more allocations succeed, so that every ENOMEM
// path of a container can be driven. Counters are per thread, so a test
// thread never disturbs gtest's own allocations or another test thread.

#include <cstddef>

namespace tessera::test {

// Nothrow allocations made by this thread since it started.
size_t nothrow_allocation_count();

class FailAllocations {
public:
    explicit FailAllocations(size_t successes = 0);
    FailAllocations(const FailAllocations&) = delete;
    FailAllocations& operator=(const FailAllocations&) = delete;
    ~FailAllocations();

    // Allocations refused so far in this scope.
    size_t failures() const;

private:
    long m_saved_budget;
    size_t m_saved_failures;
};

} // namespace tessera::test
