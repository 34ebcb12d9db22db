#include <drivers/virtio/net/virtio_net_device.h>
#include <drivers/virtio/net/virtio_net_intx.h>
#include <kernel/irq/irq.h>

namespace tessera {

namespace {

constexpr size_t max_lines = 16;
constexpr size_t max_devices_per_line = 8;

// Written only at the drivers init level, on the boot CPU, before the
// device's queues exist; a device is published (count) after its slot.
struct Line {
    kstd::atomic<size_t> count { 0 };
    VirtioNetDevice* devices[max_devices_per_line] {};
    bool routed { false };
};

constinit Line s_lines[max_lines] {};

void line_interrupt(void* context)
{
    auto& line = *static_cast<Line*>(context);
    size_t count = line.count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < count; ++i)
        line.devices[i]->service_intx();
}

} // namespace

ErrorOr<void> virtio_net_intx_attach(uint8_t line_number, VirtioNetDevice& device)
{
    if (line_number >= max_lines)
        return Error(Errno::INVAL, "virtio-net: INTx line above 15");
    Line& line = s_lines[line_number];
    size_t count = line.count.load(kstd::memory_order_relaxed);
    if (count == max_devices_per_line)
        return Error(Errno::NOSPC, "virtio-net: too many devices on one INTx line");
    line.devices[count] = &device;
    line.count.store(count + 1, kstd::memory_order_release);
    if (!line.routed) {
        auto routed = irq_route_isa(line_number, "virtio-net intx", line_interrupt, &line);
        if (routed.is_error()) {
            line.count.store(count, kstd::memory_order_release);
            return routed.release_error();
        }
        line.routed = true;
    }
    return {};
}

} // namespace tessera
