#include <kernel/lib/string.h>
#include <kernel/sched/work_queue.h>
#include <net/inet/cable_net_device.h>
#include <net/inet/lib/ethernet.h>

namespace tessera {

CableNetDevice::CableNetDevice(const char* name, MacAddress mac, uint32_t mtu)
    : m_name(name)
    , m_mac(mac)
    , m_mtu(mtu)
{
}

CableNetDevice::~CableNetDevice() { stop(); }

void CableNetDevice::connect(CableNetDevice& a, CableNetDevice& b)
{
    a.m_peer = &b;
    b.m_peer = &a;
}

ErrorOr<void> CableNetDevice::transmit(Span<const uint8_t> frame)
{
    auto fail = [&](Error error) -> ErrorOr<void> {
        counters().tx_dropped.fetch_add(1, kstd::memory_order_relaxed);
        return error;
    };
    if (frame.size() > m_mtu + ethernet_header_size)
        return fail(Error(Errno::MSGSIZE, "cable: frame longer than the MTU"));
    if (m_peer == nullptr)
        return fail(Error(Errno::AGAIN, "cable: not connected"));
    auto accepted = m_peer->accept(frame, m_corrupt_offset.load());
    if (accepted.is_error())
        return fail(accepted.release_error());
    counters().tx_frames.fetch_add(1, kstd::memory_order_relaxed);
    counters().tx_bytes.fetch_add(frame.size(), kstd::memory_order_relaxed);
    return {};
}

ErrorOr<void> CableNetDevice::accept(Span<const uint8_t> frame, size_t corrupt_offset)
{
    auto* bytes = new (kstd::nothrow) uint8_t[frame.size() == 0 ? 1 : frame.size()];
    if (bytes == nullptr)
        return Error(Errno::NOMEM, "cable: no memory for a frame");
    memcpy(bytes, frame.data(), frame.size());
    if (corrupt_offset < frame.size())
        bytes[corrupt_offset] ^= 0xff;
    auto queued = m_queue.with([&](Queue& queue) -> ErrorOr<void> {
        if (queue.stopped)
            return Error(Errno::AGAIN, "cable: peer stopped");
        return queue.frames.try_push({ bytes, frame.size() });
    });
    if (queued.is_error()) {
        delete[] bytes;
        return Error(Errno::AGAIN, "cable: peer's queue full");
    }
    WorkQueue::system().queue(m_deliver);
    return {};
}

void CableNetDevice::on_deliver(void* argument)
{
    auto& self = *static_cast<CableNetDevice*>(argument);
    for (;;) {
        auto frame = self.m_queue.with([](Queue& queue) -> Optional<Frame> {
            if (queue.stopped)
                return {};
            return queue.frames.pop();
        });
        if (!frame.has_value())
            return;
        // Delivered with no lock held, as a driver's receive worker does.
        self.deliver({ frame->bytes, frame->length });
        delete[] frame->bytes;
    }
}

void CableNetDevice::stop()
{
    m_queue.with([](Queue& queue) { queue.stopped = true; });
    WorkQueue::system().cancel_sync(m_deliver);
    for (;;) {
        auto frame = m_queue.with([](Queue& queue) { return queue.frames.pop(); });
        if (!frame.has_value())
            return;
        delete[] frame->bytes;
    }
}

} // namespace tessera
