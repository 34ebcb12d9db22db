// Finds every virtio-net PCI function with the modern (1.x) interface and
// registers it as a NetDevice: 1af4:1041 (modern only) and 1af4:1000
// (transitional) when it has the modern capabilities. A legacy-only
// function (QEMU's disable-modern=on) is left alone.

#include <drivers/pci/pci.h>
#include <drivers/virtio/net/virtio_net_device.h>
#include <drivers/virtio/net/virtio_net_probe.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>

namespace tessera {

namespace {

constexpr uint16_t virtio_vendor = 0x1af4;
constexpr uint16_t virtio_net_transitional = 0x1000;
constexpr uint16_t virtio_net_modern = 0x1041;
constexpr size_t max_devices = 8;

struct Probe {
    VirtioNetDevice* devices[max_devices] {};
    size_t count { 0 };
    size_t failures { 0 };
};

Probe s_probe;

bool probe_one(const PciDevice& pci, void* context)
{
    auto& probe = *static_cast<Probe*>(context);
    if (pci.vendor_id != virtio_vendor
        || (pci.device_id != virtio_net_modern && pci.device_id != virtio_net_transitional))
        return true;
    if (probe.count == max_devices)
        return false;
    auto created = VirtioNetDevice::try_create(pci, probe.count);
    if (created.is_error()) {
        if (created.error().code() == Errno::NOENT) {
            infoln("virtio-net: %02x:%02x.%u is legacy-only; not driven", pci.address.bus, pci.address.device,
                pci.address.function);
        } else {
            ++probe.failures;
            warnln("virtio-net: %02x:%02x.%u: %s (%s)", pci.address.bus, pci.address.device, pci.address.function,
                created.error().what() ? created.error().what() : "?", errno_name(created.error().code()));
        }
        return true;
    }
    auto registered = net_device_register(*created.value());
    if (registered.is_error()) {
        ++probe.failures;
        warnln("virtio-net: %s", registered.error().what() ? registered.error().what() : "?");
        return true;
    }
    // The negative control of the virtio_net selftests (tools/check.py):
    // NIC0 corrupts what it sends, and the byte-exact cases must fail.
    if (probe.count == 0 && node_config().inject == FaultInjection::VirtioCorruptTx)
        created.value()->set_corrupt_transmit(true);
    probe.devices[probe.count++] = created.value();
    return true;
}

ErrorOr<void> virtio_net_init()
{
    pci_scan(probe_one, &s_probe);
    if (s_probe.failures != 0)
        return Error(Errno::IO, "virtio-net: a function failed to start");
    return {};
}

} // namespace

size_t virtio_net_device_count() { return s_probe.count; }

VirtioNetDevice* virtio_net_device_at(size_t index) { return index < s_probe.count ? s_probe.devices[index] : nullptr; }

INIT_FUNCTION(drivers, virtio_net, virtio_net_init, Optional);

} // namespace tessera
