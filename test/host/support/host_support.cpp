// What the kernel provides to portable code, provided again for host tests.
#include <kernel/lib/assert.h>

#include "allocation_failure.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace tessera {

[[noreturn]] void verify_failed(const char* expression, const char* file, int line)
{
    std::fprintf(stderr, "VERIFY(%s) failed at %s:%d\n", expression, file, line);
    std::abort();
}

} // namespace tessera

namespace {
// A negative budget means "never fail".
thread_local long s_allocation_budget = -1;
thread_local size_t s_allocation_failures = 0;
thread_local size_t s_allocation_count = 0;

template<bool array>
void* nothrow_allocate(size_t size) noexcept
{
    if (s_allocation_budget == 0) {
        ++s_allocation_failures;
        return nullptr;
    }
    if (s_allocation_budget > 0)
        --s_allocation_budget;
    ++s_allocation_count;
    // The throwing operator new is the sanitizer's, so ASan still sees a
    // new/delete pair (leaks, double frees, mismatched delete).
    try {
        return array ? ::operator new[](size) : ::operator new(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
} // namespace

// Replacements of the replaceable nothrow forms (the kernel's runtime/cxx.cpp
// defines the same two over the kernel heap).
void* operator new(size_t size, const std::nothrow_t&) noexcept { return nothrow_allocate<false>(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return nothrow_allocate<true>(size); }

namespace tessera::test {

size_t nothrow_allocation_count() { return s_allocation_count; }

FailAllocations::FailAllocations(size_t successes)
    : m_saved_budget(s_allocation_budget)
    , m_saved_failures(s_allocation_failures)
{
    s_allocation_budget = static_cast<long>(successes);
}

FailAllocations::~FailAllocations()
{
    s_allocation_budget = m_saved_budget;
    s_allocation_failures = m_saved_failures;
}

size_t FailAllocations::failures() const { return s_allocation_failures - m_saved_failures; }

} // namespace tessera::test
