#pragma once
// TLB shootdown: after a kernel mapping is removed or weakened, every CPU
// that may have cached the old translation must drop it before the page is
// reused. [intel/vol3]: 4.10.5 "Propagation of paging-structure changes to
// multiple processors".
//
// The rule: a shootdown that has another CPU to reach runs with interrupts
// enabled (VERIFYed), so the initiator holds no spinlock (guards disable
// interrupts). Two CPUs shooting down at once then each take the other's
// IPI while they wait, and no CPU waits on a lock the initiator holds.
// With one CPU online it is a local flush and may run with interrupts off.

#include <kernel/lib/kstd.h>

namespace tessera::arch {

// Registers the IPI handler; called once on the BSP before the APs start.
void tlb_shootdown_initialize();

// Flushes every online CPU's TLB and paging-structure caches (this CPU's
// included) and returns once each has acknowledged. Panics, naming the CPU,
// if one does not answer within a bounded wait.
void tlb_shootdown();

} // namespace tessera::arch
