#pragma once
// X2G_HEARTBEAT: every node tells the GRM it is alive, what it runs and how
// loaded it is; the reply carries the GRM's membership epoch, so a node
// learns of a membership change on its next beat. A beat is a request like
// any other: its timeout feeds the sender's failure detector as well.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera::protocol {

// Bits of HeartbeatRequest::roles (the tessera.roles of the sender).
enum NodeRoles : uint32_t {
    NodeRoleProcessor = 1u << 0,
    NodeRoleMemory = 1u << 1,
    NodeRoleStorage = 1u << 2,
    NodeRoleGrm = 1u << 3,
};
inline constexpr uint32_t kKnownNodeRoles = NodeRoleProcessor | NodeRoleMemory | NodeRoleStorage | NodeRoleGrm;

struct HeartbeatRequest {
    uint64_t sequence; // per sender, increasing; the GRM ignores an older one
    uint64_t uptime_ns; // the sender's clock, for the GRM's log only
    uint32_t roles; // NodeRoles
    uint32_t load_permille; // 0..1000: CPU for a processor, pages used for memory
    uint64_t reserved; // zero
};
static_assert(sizeof(HeartbeatRequest) == 32);
static_assert(kstd::is_trivially_copyable_v<HeartbeatRequest>);

struct HeartbeatReply {
    uint64_t membership_epoch;
    uint64_t sequence; // the request's, echoed
};
static_assert(sizeof(HeartbeatReply) == 16);
static_assert(kstd::is_trivially_copyable_v<HeartbeatReply>);

// INVAL for no or unknown roles, a load above 1000, nonzero reserved bits.
ErrorOr<void> validate(const HeartbeatRequest& request);

} // namespace tessera::protocol
