#pragma once
// The CM's MAD transport on the RoCE engine's GSI QP (QP 1): sends each
// 256-byte MAD as a UD SEND_ONLY to QP 1 of the destination with Q_Key
// 0x80010000, from a ring of registered send slots (the engine gathers a UD
// payload when it sends, at poll(), so a slot stays busy until its send
// completion); keeps receive buffers posted and hands each received MAD
// (the 256 bytes after the 40-byte GRH area) to a callback.

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/vector.h>
#include <net/rdma/cm/lib/mad_sink.h>
#include <net/rdma/lib/roce_engine.h>

namespace tessera::rdma {

struct RdmaNodeCounters;

inline constexpr size_t mad_size = 256;

class GsiMadPort final : public cm::CmMadSink {
public:
    using MadHandler = void (*)(void* context, Ipv4Address source, Span<const uint8_t> mad);

    static ErrorOr<OwnPtr<GsiMadPort>> try_create(
        RoceEngine& engine, size_t receive_buffers, size_t send_slots, RdmaNodeCounters& counters);
    ~GsiMadPort();
    GsiMadPort(RoceEngine& engine, RdmaNodeCounters& counters);

    void send_mad(Ipv4Address destination, uint32_t remote_qpn, uint32_t qkey, Span<const uint8_t> mad) override;
    // Takes QP 1's completions: frees finished send slots, passes every good
    // receive to `handler` and posts its buffer again. Returns how many MADs
    // were handed over.
    size_t process_completions(MadHandler handler, void* context);
    bool has_completions() const { return m_cq->size() != 0; }

private:
    static constexpr size_t receive_size = ud_grh_size + mad_size;

    ErrorOr<void> post_receive(size_t index);

    RoceEngine& m_engine;
    RdmaNodeCounters& m_counters;
    ProtectionDomain* m_pd { nullptr };
    CompletionQueue* m_cq { nullptr };
    QueuePair* m_qp { nullptr };
    MemoryRegion* m_mr { nullptr };
    Vector<uint8_t> m_buffer; // receive buffers, then send slots
    Vector<bool> m_slot_busy;
    size_t m_receive_buffers { 0 };
    size_t m_next_slot { 0 };
};

} // namespace tessera::rdma
