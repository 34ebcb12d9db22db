#pragma once
// Book-keeping shared by the runner and selftest_fail(): which case is
// running, which case each thread belongs to, and harness errors.

#include <kernel/lib/kstd.h>
#include <kernel/selftest/case_context.h>

namespace tessera {

// Publishes `context` as the running case (nullptr: none) and, when not
// null, remembers its first thread id and name for later harness errors.
void selftest_set_running_case(SelftestCaseContext* context);

// Called once the verdict is about to be printed: a failure after this
// point cannot change the verdict any more, so it panics instead.
// Returns the number of harness errors so far.
size_t selftest_take_verdict();

} // namespace tessera
