// Negative control for the UBSan kernel: linked only into
// build/ubsan/control.iso (`make ubsan-control`), never into a kernel that
// is meant to pass. It registers a late init function that overflows a
// signed int; the UBSan runtime (kernel/runtime/ubsan.cpp) must report it
// and panic, and `make check` requires the runner to reject the boot for
// that reason. Late, not a global constructor: constructors run before the
// console has its sinks, where a report could not be seen.
#include <kernel/init/init.h>
#include <kernel/lib/kstd.h>

namespace tessera {

namespace {

ErrorOr<void> planted_overflow()
{
    volatile int32_t largest = 0x7fffffff;
    volatile int32_t one = 1;
    volatile int32_t sum = largest + one; // the planted undefined behaviour
    (void)sum;
    return {};
}

} // namespace

INIT_FUNCTION(late, ubsan_planted_overflow, planted_overflow, Fatal);

} // namespace tessera
