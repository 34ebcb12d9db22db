#include <arch/msi.h>
#include <arch/per_cpu.h>
#include <drivers/pci/msi_vectors.h>
#include <drivers/virtio/net/virtio_net_device.h>
#include <drivers/virtio/net/virtio_net_intx.h>
#include <kernel/console/console.h>
#include <kernel/lib/format.h>
#include <kernel/sched/thread.h>

namespace tessera {

namespace {

constexpr uint16_t receive_queue = 0;
constexpr uint16_t transmit_queue = 1;
// Ring sizes the driver asks for (QEMU offers 256): enough to absorb a
// burst, and small enough that jumbo buffers stay around a megabyte.
constexpr uint16_t ring_size = 128;
constexpr uint16_t msix_receive_entry = 0;
constexpr uint16_t msix_transmit_entry = 1;
constexpr uint8_t isr_queue = 1;
constexpr uint8_t isr_config = 2;

size_t align_up(size_t value, size_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

} // namespace

VirtioNetDevice::VirtioNetDevice(const PciDevice& pci, size_t index)
    : m_pci(pci)
{
    format(m_name, sizeof(m_name), "virtio-net%zu", index);
}

ErrorOr<VirtioNetDevice*> VirtioNetDevice::try_create(const PciDevice& pci, size_t index)
{
    auto* device = new (kstd::nothrow) VirtioNetDevice(pci, index);
    if (device == nullptr)
        return Error(Errno::NOMEM, "virtio-net: no memory for the device");
    auto initialized = device->initialize();
    if (initialized.is_error()) {
        // The device may hold our vectors or DMA addresses: leave it FAILED
        // and leak the object rather than free memory it could still write.
        if (device->m_transport.isr != nullptr)
            virtio_fail(device->m_transport.common);
        return initialized.release_error();
    }
    return device;
}

ErrorOr<void> VirtioNetDevice::initialize()
{
    m_transport = TRY(virtio_pci_transport_map(m_pci));
    m_features = TRY(virtio_negotiate(m_transport.common, virtio_net_supported_features, virtio_net_required_features));
    uint8_t config[virtio_net_config_bytes];
    TRY(virtio_pci_read_device_config(m_transport, config, sizeof(config)));
    m_settings = TRY(virtio_net_settings(Span<const uint8_t>(config), m_features,
        virtio_net_fallback_mac(m_pci.address.bus, m_pci.address.device, m_pci.address.function)));
    m_buffer_stride = align_up(virtio_net_receive_buffer_bytes(m_settings.mtu), 64);

    auto msix = set_up_msix();
    if (msix.is_error()) {
        if (msix.error().code() != Errno::NOENT)
            return msix.release_error();
        TRY(set_up_intx());
    }
    uint16_t rx_vector = m_uses_msix ? msix_receive_entry : virtio_msi_no_vector;
    uint16_t tx_vector = m_uses_msix ? msix_transmit_entry : virtio_msi_no_vector;
    if (m_uses_msix)
        TRY(virtio_set_config_vector(m_transport.common, msix_transmit_entry));
    TRY(set_up_queue(receive_queue, rx_vector, m_rx_ring_memory, m_rx, m_rx_notify_off));
    OwnPtr<SplitVirtqueue> tx;
    TRY(set_up_queue(transmit_queue, tx_vector, m_tx_ring_memory, tx, m_tx_notify_off));
    TRY(m_rx_buffers.allocate(m_buffer_stride * m_rx->size()));
    TRY(m_tx_buffers.allocate(m_buffer_stride * tx->size()));
    uint16_t tx_size = tx->size();
    {
        SpinlockGuard guard(m_tx_lock);
        m_tx = kstd::move(tx);
    }
    for (uint16_t buffer = 0; buffer < m_rx->size(); ++buffer)
        TRY(post_receive_buffer(buffer));
    virtio_driver_ok(m_transport.common);
    TRY(virtio_pci_notify(m_transport, receive_queue, m_rx_notify_off));
    (void)TRY(Thread::try_create(m_name, worker_entry, this));
    infoln("%s: %02x:%02x.%u mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %s, rings %u/%u", m_name, m_pci.address.bus,
        m_pci.address.device, m_pci.address.function, m_settings.mac.octets[0], m_settings.mac.octets[1],
        m_settings.mac.octets[2], m_settings.mac.octets[3], m_settings.mac.octets[4], m_settings.mac.octets[5],
        m_settings.mtu, m_uses_msix ? "MSI-X" : "INTx", m_rx->size(), tx_size);
    return {};
}

ErrorOr<void> VirtioNetDevice::set_up_msix()
{
    auto mapped = TRY(pci_msix_map(m_pci));
    if (mapped.capability.table_size < 2)
        return Error(Errno::NOENT, "virtio-net: fewer than two MSI-X entries");
    m_msix = mapped;
    PciMsix& msix = m_msix.value();
    uint32_t apic_id = arch::cpu_at(0).apic_id;
    uint8_t rx_vector = TRY(msi_vector_allocate(msix_receive, this));
    uint8_t tx_vector = TRY(msi_vector_allocate(msix_transmit, this));
    pci_msix_set_control(m_pci, msix, true, true);
    TRY(msix.table.program(msix_receive_entry, TRY(arch::compose_msi_message(apic_id, rx_vector))));
    TRY(msix.table.program(msix_transmit_entry, TRY(arch::compose_msi_message(apic_id, tx_vector))));
    TRY(msix.table.set_masked(msix_receive_entry, false));
    TRY(msix.table.set_masked(msix_transmit_entry, false));
    pci_msix_set_control(m_pci, msix, true, false);
    m_uses_msix = true;
    return {};
}

ErrorOr<void> VirtioNetDevice::set_up_intx()
{
    auto config = m_pci.config();
    uint8_t pin = config.read8(pci_register::interrupt_pin);
    uint8_t line = config.read8(pci_register::interrupt_line);
    if (pin == 0 || line == 0xff || line >= 16)
        return Error(Errno::NXIO, "virtio-net: no MSI-X and no routed INTx line");
    config.write16(pci_register::command,
        static_cast<uint16_t>(config.read16(pci_register::command) & ~pci_command::interrupt_disable));
    TRY(virtio_net_intx_attach(line, *this));
    return {};
}

// The queue is owned by the device object, which is never freed: not even
// after a failed initialisation, since the device may still hold the
// queue's addresses. The analyzer sees that as a leak.
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<void> VirtioNetDevice::set_up_queue(
    uint16_t index, uint16_t msix_vector, OwnDma& memory, OwnPtr<SplitVirtqueue>& queue, uint16_t& notify_off)
{
    VirtioQueueSetup setup { index, ring_size, msix_vector };
    auto info = TRY(virtio_queue_query(m_transport.common, setup));
    auto layout = TRY(virtqueue_layout(info.size));
    TRY(memory.allocate(layout.total_bytes));
    queue = TRY(adopt_own_if_nonnull(new (kstd::nothrow) SplitVirtqueue(info.size, memory.data())));
    // Check the notify offset now, so a later notify cannot fail.
    TRY(virtio_pci_notify_offset(m_transport.layout, info.notify_off));
    notify_off = info.notify_off;
    VirtioQueueAddresses addresses { memory.physical() + queue->descriptors_offset(),
        memory.physical() + queue->available_offset(), memory.physical() + queue->used_offset() };
    TRY(virtio_queue_enable(m_transport.common, setup, info, addresses));
    return {};
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

ErrorOr<void> VirtioNetDevice::post_receive_buffer(uint16_t buffer)
{
    VirtqSegment segment { m_rx_buffers.physical() + buffer * m_buffer_stride, static_cast<uint32_t>(m_buffer_stride),
        true };
    uint16_t head = TRY(m_rx->submit(Span<const VirtqSegment>(&segment, 1)));
    m_rx_buffer_of_head[head] = buffer;
    return {};
}

ErrorOr<void> VirtioNetDevice::transmit(Span<const uint8_t> frame)
{
    auto& counters = this->counters();
    if (frame.size() > ethernet_header_bytes + m_settings.mtu) {
        counters.tx_dropped.fetch_add(1, kstd::memory_order_relaxed);
        return Error(Errno::MSGSIZE, "virtio-net: frame longer than the MTU");
    }
    if (frame.size() < ethernet_header_bytes)
        return Error(Errno::INVAL, "virtio-net: frame shorter than an Ethernet header");
    if (m_broken.load(kstd::memory_order_relaxed))
        return Error(Errno::IO, "virtio-net: device failed");
    bool notify = false;
    {
        SpinlockGuard guard(m_tx_lock);
        reclaim_transmit_locked();
        if (m_tx->free_count() == 0) {
            m_driver_counters.tx_ring_full.fetch_add(1, kstd::memory_order_relaxed);
            counters.tx_dropped.fetch_add(1, kstd::memory_order_relaxed);
            return Error(Errno::AGAIN, "virtio-net: transmit ring full");
        }
        // Each descriptor has its own buffer slot; the head the ring hands
        // out next is the slot to fill (single-descriptor chains).
        uint16_t slot = m_tx->next_free_head();
        uint8_t* buffer = m_tx_buffers.data() + slot * m_buffer_stride;
        __builtin_memset(buffer, 0, virtio_net_header_bytes); // no offloads: flags 0, gso none
        __builtin_memcpy(buffer + virtio_net_header_bytes, frame.data(), frame.size());
        if (m_corrupt_transmit.load(kstd::memory_order_relaxed))
            buffer[virtio_net_header_bytes + frame.size() - 1] ^= 0x01;
        VirtqSegment segment { m_tx_buffers.physical() + slot * m_buffer_stride,
            static_cast<uint32_t>(virtio_net_header_bytes + frame.size()), false };
        auto head = m_tx->submit(Span<const VirtqSegment>(&segment, 1));
        if (head.is_error())
            return head.release_error();
        VERIFY(head.value() == slot);
        notify = m_tx->device_wants_notification();
    }
    counters.tx_frames.fetch_add(1, kstd::memory_order_relaxed);
    counters.tx_bytes.fetch_add(frame.size(), kstd::memory_order_relaxed);
    if (notify)
        MUST(virtio_pci_notify(m_transport, transmit_queue, m_tx_notify_off));
    return {};
}

void VirtioNetDevice::reclaim_transmit_locked()
{
    for (;;) {
        auto completion = m_tx->take_completion();
        if (completion.is_error()) {
            broken("transmit ring");
            return;
        }
        if (!completion.value().has_value())
            return;
    }
}

void VirtioNetDevice::reclaim_transmit()
{
    SpinlockGuard guard(m_tx_lock);
    reclaim_transmit_locked();
}

void VirtioNetDevice::drain_receive()
{
    bool reposted = false;
    for (;;) {
        auto completion = m_rx->take_completion();
        if (completion.is_error()) {
            broken("receive ring");
            return;
        }
        if (!completion.value().has_value())
            break;
        auto done = completion.value().value();
        uint16_t buffer = m_rx_buffer_of_head[done.head];
        Span<const uint8_t> memory(m_rx_buffers.data() + buffer * m_buffer_stride, m_buffer_stride);
        auto frame = virtio_net_received_frame(memory, done.written, m_settings.mtu);
        if (frame.is_error()) {
            counters().rx_dropped.fetch_add(1, kstd::memory_order_relaxed);
        } else {
            Tap tap = m_tap.load(kstd::memory_order_acquire);
            if (tap != nullptr && tap(m_tap_context.load(kstd::memory_order_relaxed), frame.value())) {
                // Consumed by a selftest: counted as deliver() would.
                counters().rx_frames.fetch_add(1, kstd::memory_order_relaxed);
                counters().rx_bytes.fetch_add(frame.value().size(), kstd::memory_order_relaxed);
            } else {
                deliver(frame.value());
            }
        }
        if (post_receive_buffer(buffer).is_error()) {
            broken("receive repost");
            return;
        }
        reposted = true;
    }
    if (reposted && m_rx->device_wants_notification())
        MUST(virtio_pci_notify(m_transport, receive_queue, m_rx_notify_off));
}

void VirtioNetDevice::broken(const char* why)
{
    if (m_broken.exchange(true))
        return;
    errorln("%s: device broke its %s; marking it FAILED", m_name, why);
    virtio_fail(m_transport.common);
}

void VirtioNetDevice::set_selftest_tap(Tap tap, void* context)
{
    m_tap_context.store(context, kstd::memory_order_relaxed);
    m_tap.store(tap, kstd::memory_order_release);
}

void VirtioNetDevice::wake_worker()
{
    m_wake.change_and_wake_one([&] { m_work_pending = true; });
}

void VirtioNetDevice::msix_receive(void* self, uint8_t)
{
    auto& device = *static_cast<VirtioNetDevice*>(self);
    device.counters().interrupts.fetch_add(1, kstd::memory_order_relaxed);
    device.m_driver_counters.rx_interrupts.fetch_add(1, kstd::memory_order_relaxed);
    device.wake_worker();
}

void VirtioNetDevice::msix_transmit(void* self, uint8_t)
{
    auto& device = *static_cast<VirtioNetDevice*>(self);
    device.counters().interrupts.fetch_add(1, kstd::memory_order_relaxed);
    device.m_driver_counters.tx_interrupts.fetch_add(1, kstd::memory_order_relaxed);
    device.wake_worker();
}

bool VirtioNetDevice::service_intx()
{
    uint8_t isr = virtio_pci_read_isr(m_transport);
    if ((isr & (isr_queue | isr_config)) == 0)
        return false;
    counters().interrupts.fetch_add(1, kstd::memory_order_relaxed);
    m_driver_counters.intx_interrupts.fetch_add(1, kstd::memory_order_relaxed);
    wake_worker();
    return true;
}

void VirtioNetDevice::worker_entry(void* self) { static_cast<VirtioNetDevice*>(self)->worker(); }

void VirtioNetDevice::worker()
{
    for (;;) {
        m_wake.wait_until([&] {
            if (!m_work_pending)
                return false;
            m_work_pending = false;
            return true;
        });
        if (m_broken.load(kstd::memory_order_relaxed))
            continue;
        drain_receive();
        reclaim_transmit();
    }
}

} // namespace tessera
