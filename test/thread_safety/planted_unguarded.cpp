// Negative control for `make kernel-clang` (-Wthread-safety -Werror): with
// PLANTED=1 this file touches spinlock-guarded data without its lock in
// three ways, and clang must reject each; with PLANTED=0 only the correct
// uses remain and it must compile cleanly. Run by `make kernel-clang-control`.

#include <kernel/locking/spinlock.h>

namespace tessera {

struct Counters {
    Spinlock<LockRank::Selftest> lock;
    int hits TA_GUARDED_BY(lock) { 0 };

    void bump_locked() TA_REQUIRES(lock) { ++hits; }
};

void correct_uses(Counters& counters)
{
    {
        SpinlockGuard guard(counters.lock);
        ++counters.hits;
        counters.bump_locked();
    }
}

#if PLANTED
void planted_spinlock_write(Counters& counters) { ++counters.hits; }
int planted_spinlock_read(Counters& counters) { return counters.hits; }
void planted_requires_call(Counters& counters) { counters.bump_locked(); }
#endif

} // namespace tessera
