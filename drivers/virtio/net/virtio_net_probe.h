#pragma once
// The virtio-net functions found at boot, in probe (bus) order; the same
// objects are in the NetDevice registry. For the selftests and the shell.

#include <kernel/lib/kstd.h>

namespace tessera {

class VirtioNetDevice;

size_t virtio_net_device_count();
VirtioNetDevice* virtio_net_device_at(size_t index);

} // namespace tessera
