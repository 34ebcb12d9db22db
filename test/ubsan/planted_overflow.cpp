// Negative control for the UBSan kernel: linked only into
// build/ubsan/control.iso (`make ubsan-control`), never into a kernel that
// is meant to pass. Its global constructor runs early in kernel_main
// (run_global_constructors) and overflows a signed int; the UBSan runtime
// (kernel/runtime/ubsan.cpp) must report it and panic, and `make check`
// requires the runner to reject the boot for that reason.
#include <kernel/lib/kstd.h>

namespace {

struct PlantedOverflow {
    PlantedOverflow()
    {
        volatile int32_t largest = 0x7fffffff;
        volatile int32_t one = 1;
        volatile int32_t sum = largest + one; // the planted undefined behaviour
        (void)sum;
    }
};

PlantedOverflow s_planted;

} // namespace
