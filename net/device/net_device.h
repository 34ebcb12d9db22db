#pragma once
// NetDevice: what the network stack needs from an Ethernet driver, and all
// it may assume. A driver (drivers/virtio/net, a selftest's cable) derives
// from it; the stack (net/inet/) never names a driver.
//
// Contract:
// - transmit() copies the frame (an Ethernet II header and payload, no FCS)
//   before it returns; the caller keeps its buffer. It may be called from
//   thread context on any CPU, concurrently; the driver serialises. It never
//   sleeps: a full ring is EAGAIN (counted as tx_dropped), a frame longer
//   than mtu() + 14 is EMSGSIZE.
// - Received frames reach the handler set with set_receive_handler(), in
//   thread context (a driver's receive worker, never its interrupt handler),
//   one frame at a time, in arrival order per device. The span is valid only
//   during the call: a handler that keeps data copies it. The handler
//   validates everything: a frame is input from outside.
// - Counters are written only by the driver and read by anyone (relaxed).

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

struct NetDeviceCounters {
    kstd::atomic<uint64_t> rx_frames { 0 };
    kstd::atomic<uint64_t> rx_bytes { 0 };
    kstd::atomic<uint64_t> rx_dropped { 0 }; // Malformed, too long, no buffer, no handler.
    kstd::atomic<uint64_t> tx_frames { 0 };
    kstd::atomic<uint64_t> tx_bytes { 0 };
    kstd::atomic<uint64_t> tx_dropped { 0 }; // Ring full or too long.
    kstd::atomic<uint64_t> interrupts { 0 };
};

class NetDevice {
public:
    using ReceiveHandler = void (*)(void* context, Span<const uint8_t> frame);

    virtual ~NetDevice() = default;

    virtual const char* name() const = 0; // "virtio-net0"
    virtual MacAddress mac() const = 0;
    virtual uint32_t mtu() const = 0; // The largest Ethernet payload, 1500 or a jumbo size.
    virtual ErrorOr<void> transmit(Span<const uint8_t> frame) = 0;

    // Set once, before the driver is started; nullptr drops every frame.
    void set_receive_handler(ReceiveHandler handler, void* context)
    {
        m_receive_context = context;
        m_receive_handler = handler;
    }

    NetDeviceCounters& counters() { return m_counters; }
    const NetDeviceCounters& counters() const { return m_counters; }

protected:
    // Drivers call this for each received frame, from thread context.
    void deliver(Span<const uint8_t> frame)
    {
        m_counters.rx_frames.fetch_add(1, kstd::memory_order_relaxed);
        m_counters.rx_bytes.fetch_add(frame.size(), kstd::memory_order_relaxed);
        if (m_receive_handler == nullptr) {
            m_counters.rx_dropped.fetch_add(1, kstd::memory_order_relaxed);
            return;
        }
        m_receive_handler(m_receive_context, frame);
    }

private:
    ReceiveHandler m_receive_handler { nullptr };
    void* m_receive_context { nullptr };
    NetDeviceCounters m_counters;
};

// The registry of devices found at boot, in probe order. Drivers register
// at the `drivers` init level; the stack takes them at the `fabric` level.
// Capacity is small and fixed: a node has a handful of NICs.
ErrorOr<void> net_device_register(NetDevice& device);
size_t net_device_count();
NetDevice* net_device_at(size_t index);

} // namespace tessera
