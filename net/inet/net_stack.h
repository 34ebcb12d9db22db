#pragma once
// The node's network stack: at the `fabric` init level it takes the first
// registered NetDevice and, if `tessera.ip` is configured, brings up a
// NetInterface on it with that address. Users above (the RoCE provider, RPC)
// find it here; they start after the fabric level (or look it up lazily),
// since init functions within one level run in no fixed order.

#include <net/inet/net_interface.h>

namespace tessera {

// The interface on net_device_at(0), or nullptr when there is no device or
// no configured address. Set once at the fabric level, never freed.
NetInterface* net_primary_interface();

} // namespace tessera
