#pragma once
// Why the CM dropped a received MAD. Decoders return one of these instead of
// an errno because the engine counts drops by reason (a corpus test checks
// that each malformed MAD lands in its own counter), and an errno would not
// say which check failed. None means "accepted".

#include <kernel/lib/kstd.h>

namespace tessera::rdma::cm {

enum class CmDrop : uint8_t {
    None = 0,
    WrongLength, // not exactly 256 bytes (docs/wire/rdma-cm.md 2.2: always 256)
    BadBaseVersion, // != 1 (3.1 step 2)
    NotCmClass, // MgmtClass != 0x07
    BadClassVersion, // != 2: no agent on Linux (3.1 step 5)
    BadMethod, // != 0x03 Send (3.1 step 4)
    UnknownAttribute, // outside 0x0010..0x001A (3.1 step 6)
    UnsupportedAttribute, // SIDR_REQ/REP, LAP, APR: never used on RoCE RC
    BadField, // a value the message cannot carry (comm ID 0, ARI length > 72, ...)
    UnknownConnection, // no connection matches the comm IDs
    WrongState, // the connection is in a state that ignores this message
    WrongQpn, // a DREQ naming another QPN (Linux ignores it, 4.6)
    NoResources, // a REQ we could not even answer (no memory for the reply)
    Count,
};

constexpr size_t cm_drop_count = static_cast<size_t>(CmDrop::Count);

const char* cm_drop_name(CmDrop drop);

} // namespace tessera::rdma::cm
