#pragma once
// Feature bits the drivers here know of. [virtio 1.1]: 6 "Reserved Feature
// Bits" and 5.1.3 "Network device: Feature bits". A driver offers only the
// bits it implements; anything else the device offers is declined.

#include <kernel/lib/kstd.h>

namespace tessera {

namespace virtio_feature {
constexpr uint64_t version_1 = 1ull << 32; // the 1.x interface; legacy devices lack it
// virtio-net
constexpr uint64_t net_mtu = 1ull << 3; // the device reports its MTU in config
constexpr uint64_t net_mac = 1ull << 5; // the device reports a MAC in config
} // namespace virtio_feature

} // namespace tessera
