#pragma once
// RoceEngine: one soft-RoCE port (rxe0) at one IPv4 address. It owns the
// verbs objects (PDs, MRs, CQs, QPs), parses and validates every received
// packet (dropping bad ones under a named reason, see roce_counters.h), and
// drives the QPs. Event-driven and clock-free:
//
//   auto engine = TRY(RoceEngine::try_create({ .local_ip = ip }, sink));
//   engine->receive(ip_packet, now_ns);     // from UDP port 4791
//   engine->poll(now_ns);                   // after posting, and at deadlines
//   uint64_t when = engine->next_deadline_ns(); // 0: poll now; no_deadline: idle
//
// The caller serializes all calls (the kernel glue holds one lock of rank
// Rdma around the engine).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/vector.h>
#include <net/rdma/lib/completion_queue.h>
#include <net/rdma/lib/memory_region_table.h>
#include <net/rdma/lib/packet_sink.h>
#include <net/rdma/lib/protection_domain.h>
#include <net/rdma/lib/queue_pair.h>
#include <net/rdma/lib/roce_counters.h>

namespace tessera::rdma {

struct EngineConfig {
    Ipv4Address local_ip;
    // The port's active MTU: the largest UD payload (rxe: netdev MTU - 80,
    // rounded down to an IB MTU; Ethernet 1500 gives 1024).
    PathMtu active_mtu { PathMtu::Mtu1024 };
    uint64_t seed { 0x5eed };
};

class RoceEngine {
public:
    static ErrorOr<OwnPtr<RoceEngine>> try_create(const EngineConfig& config, PacketSink& sink);
    ~RoceEngine();

    ErrorOr<ProtectionDomain*> alloc_pd();
    ErrorOr<void> dealloc_pd(ProtectionDomain& pd); // BUSY while MRs or QPs use it

    ErrorOr<MemoryRegion*> register_mr(
        ProtectionDomain& pd, void* base, uint64_t virtual_address, uint64_t length, uint32_t access);
    // The common case: VA = the base pointer's value, as ibv_reg_mr does.
    ErrorOr<MemoryRegion*> register_mr(ProtectionDomain& pd, void* base, uint64_t length, uint32_t access)
    {
        return register_mr(pd, base, reinterpret_cast<uintptr_t>(base), length, access);
    }
    ErrorOr<void> deregister_mr(MemoryRegion& region);

    ErrorOr<CompletionQueue*> create_cq(size_t capacity);
    ErrorOr<void> destroy_cq(CompletionQueue& cq); // BUSY while a QP uses it

    // RC and UD QPs get QPNs from 0x11 up (as rxe); QpType::Gsi is QP1.
    ErrorOr<QueuePair*> create_qp(const QpInitAttr& init);
    ErrorOr<void> destroy_qp(QueuePair& qp);
    QueuePair* find_qp(uint32_t qpn) const;

    void receive(Span<const uint8_t> ip_packet, uint64_t now_ns);
    void poll(uint64_t now_ns);
    uint64_t next_deadline_ns() const;

    const RoceCounters& counters() const { return m_counters; }
    Ipv4Address local_ip() const { return m_config.local_ip; }
    uint32_t active_mtu() const { return path_mtu_bytes(m_config.active_mtu); }

    // For the QPs.
    RoceCounters& mutable_counters() { return m_counters; }
    const MemoryRegionTable& memory_regions() const { return m_regions; }
    Span<uint8_t> payload_buffer() { return m_payload.span(); }
    void transmit(PacketAddressing addressing, const TransportHeaders& headers, Span<const uint8_t> payload);

private:
    RoceEngine(const EngineConfig& config, PacketSink& sink);
    void drop(DropReason reason) { ++m_counters.dropped[static_cast<size_t>(reason)]; }
    DropReason check_for_qp(const ReceivedPacket& packet, QueuePair*& qp) const;

    EngineConfig m_config;
    PacketSink& m_sink;
    RoceCounters m_counters;
    MemoryRegionTable m_regions;
    Vector<OwnPtr<ProtectionDomain>> m_pds;
    Vector<OwnPtr<CompletionQueue>> m_cqs;
    Vector<OwnPtr<QueuePair>> m_qps; // index = QPN - first_qpn
    OwnPtr<QueuePair> m_gsi;
    Vector<uint8_t> m_packet;
    Vector<uint8_t> m_payload;
    uint16_t m_ip_identification { 0 };
    uint32_t m_next_pd_handle { 1 };
};

} // namespace tessera::rdma
