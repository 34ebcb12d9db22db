#include <kernel/locking/spinlock.h>
#include <net/device/net_device.h>

namespace tessera {

namespace {

constexpr size_t max_net_devices = 8;

struct Registry {
    NetDevice* devices[max_net_devices] {};
    size_t count { 0 };
};

SpinlockProtected<Registry, LockRank::NetStack> s_registry;

} // namespace

ErrorOr<void> net_device_register(NetDevice& device)
{
    return s_registry.with([&](Registry& registry) -> ErrorOr<void> {
        if (registry.count == max_net_devices)
            return Error(Errno::NOSPC, "net: too many network devices");
        registry.devices[registry.count++] = &device;
        return {};
    });
}

size_t net_device_count()
{
    return s_registry.with([](Registry& registry) { return registry.count; });
}

NetDevice* net_device_at(size_t index)
{
    return s_registry.with(
        [&](Registry& registry) -> NetDevice* { return index < registry.count ? registry.devices[index] : nullptr; });
}

} // namespace tessera
