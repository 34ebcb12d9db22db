#pragma once
// One helper thread started by a case through selftest_start_thread(). The
// record lives in the case's context, so it stays valid for as long as the
// thread may run: a context with a helper still running is never freed.

#include <kernel/lib/kstd.h>
#include <kernel/selftest/selftest.h>

namespace tessera {

class Thread;
class SelftestCaseContext;

class SelftestThread {
public:
    SelftestThreadEntry entry { nullptr };
    void* argument { nullptr };
    // Stored by the starting thread once the thread exists, which may be
    // after the helper has already finished. Holds one counted reference
    // (leaked into the pointer), dropped by whoever joins.
    kstd::atomic<Thread*> thread { nullptr };
    // Set by the helper itself when entry returns.
    kstd::atomic<bool> finished { false };
    // Set once join() returned and the reference was dropped (by the case
    // or the runner).
    kstd::atomic<bool> joined { false };
};

} // namespace tessera
