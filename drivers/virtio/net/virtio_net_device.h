#pragma once
// A virtio-net-pci function (virtio 1.x, modern transport) as a NetDevice.
// One receive queue (0) and one transmit queue (1), single-descriptor
// buffers sized for the MTU (no mergeable buffers, no offloads), the
// 12-byte virtio_net_hdr always zero on transmit.
//
// Interrupts: MSI-X when the function has at least two entries (entry 0
// for receive, entry 1 for transmit completions and config changes), else
// INTx through the IOAPIC with the ISR status read to tell whether it was
// this device. Either handler only counts and wakes the device's worker
// thread, which delivers received frames (thread context, in ring order),
// reposts their buffers and reclaims transmit descriptors.

#include <drivers/pci/msix.h>
#include <drivers/pci/pci_device.h>
#include <drivers/virtio/lib/split_virtqueue.h>
#include <drivers/virtio/lib/virtio_net_config.h>
#include <drivers/virtio/virtio_dma.h>
#include <drivers/virtio/virtio_pci_transport.h>
#include <kernel/lib/optional.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/wait_queue.h>
#include <net/device/net_device.h>

namespace tessera {

struct VirtioNetDriverCounters {
    kstd::atomic<uint64_t> rx_interrupts { 0 }; // MSI-X entry 0
    kstd::atomic<uint64_t> tx_interrupts { 0 }; // MSI-X entry 1 (transmit and config)
    kstd::atomic<uint64_t> intx_interrupts { 0 }; // INTx with our ISR bit set
    kstd::atomic<uint64_t> tx_ring_full { 0 }; // EAGAIN from transmit (also in tx_dropped)
};

class VirtioNetDevice final : public NetDevice {
public:
    // Sets the function up and starts its worker; the object lives forever.
    static ErrorOr<VirtioNetDevice*> try_create(const PciDevice& pci, size_t index);

    const char* name() const override { return m_name; }
    MacAddress mac() const override { return m_settings.mac; }
    uint32_t mtu() const override { return m_settings.mtu; }
    ErrorOr<void> transmit(Span<const uint8_t> frame) override;

    bool uses_msix() const { return m_uses_msix; }
    const PciDevice& pci() const { return m_pci; }
    const VirtioNetDriverCounters& driver_counters() const { return m_driver_counters; }

    // Selftests only. A tap sees each received frame before deliver(); if
    // it returns true the frame is consumed. Set and cleared by one case.
    using Tap = bool (*)(void* context, Span<const uint8_t> frame);
    void set_selftest_tap(Tap tap, void* context);
    // Planted fault: flip one byte of each transmitted frame (its last), so
    // the selftests can show they catch corruption.
    void set_corrupt_transmit(bool corrupt) { m_corrupt_transmit.store(corrupt, kstd::memory_order_relaxed); }

    // Called by the INTx line dispatcher: reads (and so clears) the ISR;
    // false if this device did not interrupt.
    bool service_intx();

private:
    VirtioNetDevice(const PciDevice& pci, size_t index);

    ErrorOr<void> initialize();
    ErrorOr<void> set_up_msix();
    ErrorOr<void> set_up_intx();
    ErrorOr<void> set_up_queue(
        uint16_t index, uint16_t msix_vector, OwnDma& memory, OwnPtr<SplitVirtqueue>& queue, uint16_t& notify_off);
    ErrorOr<void> post_receive_buffer(uint16_t buffer);
    void wake_worker();
    static void worker_entry(void* self);
    [[noreturn]] void worker();
    void drain_receive();
    void reclaim_transmit();
    void reclaim_transmit_locked() TA_REQUIRES(m_tx_lock);
    void broken(const char* why);

    static void msix_receive(void* self, uint8_t vector);
    static void msix_transmit(void* self, uint8_t vector);

    PciDevice m_pci;
    char m_name[16] {};
    VirtioPciTransport m_transport;
    VirtioNetSettings m_settings {};
    uint64_t m_features { 0 };
    bool m_uses_msix { false };
    Optional<PciMsix> m_msix;
    size_t m_buffer_stride { 0 };

    // Receive side: touched only by the worker once started.
    OwnDma m_rx_ring_memory;
    OwnDma m_rx_buffers;
    OwnPtr<SplitVirtqueue> m_rx;
    uint16_t m_rx_notify_off { 0 };
    uint16_t m_rx_buffer_of_head[virtqueue_max_size] {};

    // Transmit side. Protects m_tx and the transmit buffers (slot = head).
    Spinlock<LockRank::NetDevice> m_tx_lock;
    OwnDma m_tx_ring_memory;
    OwnDma m_tx_buffers;
    OwnPtr<SplitVirtqueue> m_tx TA_GUARDED_BY(m_tx_lock);
    uint16_t m_tx_notify_off { 0 };
    kstd::atomic<bool> m_corrupt_transmit { false };

    // Set by the interrupt handlers, cleared by the worker; guarded by m_wake's lock.
    WaitQueue m_wake;
    bool m_work_pending { false };
    kstd::atomic<bool> m_broken { false };

    kstd::atomic<Tap> m_tap { nullptr };
    kstd::atomic<void*> m_tap_context { nullptr };

    VirtioNetDriverCounters m_driver_counters;
};

} // namespace tessera
