#include <managers/protocol/lib/heartbeat.h>

namespace tessera::protocol {

ErrorOr<void> validate(const HeartbeatRequest& request)
{
    if (request.roles == 0 || (request.roles & ~kKnownNodeRoles) != 0)
        return Error(Errno::INVAL, "heartbeat names no or unknown roles");
    if (request.load_permille > 1000)
        return Error(Errno::INVAL, "heartbeat load above 1000 permille");
    if (request.reserved != 0)
        return Error(Errno::INVAL, "heartbeat reserved field set");
    return {};
}

} // namespace tessera::protocol
