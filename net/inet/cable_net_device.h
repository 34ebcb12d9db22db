#pragma once
// CableNetDevice: an in-memory NetDevice pair joined by a "cable", for the
// stack's in-kernel selftest (no NIC driver needed). transmit() copies the
// frame onto the peer's receive queue and queues the peer's delivery work,
// which hands frames to the receive handler in thread context, one at a
// time, as a real driver's receive worker does. For planted failures the
// cable can flip one byte of every frame it carries.

#include <kernel/lib/ring_buffer.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/work_item.h>
#include <net/device/net_device.h>

namespace tessera {

class CableNetDevice final : public NetDevice {
public:
    static constexpr size_t queue_depth = 64;

    CableNetDevice(const char* name, MacAddress mac, uint32_t mtu);
    // Stops delivery and frees queued frames.
    ~CableNetDevice() override;

    static void connect(CableNetDevice& a, CableNetDevice& b);

    const char* name() const override { return m_name; }
    MacAddress mac() const override { return m_mac; }
    uint32_t mtu() const override { return m_mtu; }
    // EMSGSIZE over MTU + 14, EAGAIN when the peer's queue is full or the
    // cable is unplugged, ENOMEM without heap.
    ErrorOr<void> transmit(Span<const uint8_t> frame) override;

    // Every frame sent from now on has byte `offset` xor-ed with 0xff (when
    // it is that long); ~0 turns it off.
    void corrupt_byte(size_t offset) { m_corrupt_offset.store(offset); }
    // No more deliveries: waits for one in progress, drops what is queued.
    void stop();

private:
    struct Frame {
        uint8_t* bytes { nullptr };
        size_t length { 0 };
    };
    struct Queue {
        RingBuffer<Frame, queue_depth> frames;
        bool stopped { false };
    };

    static void on_deliver(void* argument);
    ErrorOr<void> accept(Span<const uint8_t> frame, size_t corrupt_offset);

    const char* m_name;
    MacAddress m_mac;
    uint32_t m_mtu;
    CableNetDevice* m_peer { nullptr };
    kstd::atomic<size_t> m_corrupt_offset { ~size_t(0) };
    SpinlockProtected<Queue, LockRank::NetDevice> m_queue;
    WorkItem m_deliver { on_deliver, this };
};

} // namespace tessera
