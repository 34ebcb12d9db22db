#include <net/rdma/lib/roce_engine.h>

namespace tessera::rdma {

namespace {

constexpr uint32_t first_qpn = 0x11; // rxe: RXE_MIN_QP_INDEX + 1
constexpr size_t max_qps = 1u << 16;

bool is_rc_opcode(uint8_t opcode) { return opcode < 0x20; }
bool is_ud_opcode(uint8_t opcode) { return (opcode & 0xE0) == 0x60; }

template<typename T>
ErrorOr<void> remove_owned(Vector<OwnPtr<T>>& owners, T& object)
{
    for (size_t i = 0; i < owners.size(); ++i) {
        if (owners[i].ptr() == &object) {
            owners.unstable_remove(i);
            return {};
        }
    }
    return Error(Errno::INVAL, "object not owned by this engine");
}

} // namespace

RoceEngine::RoceEngine(const EngineConfig& config, PacketSink& sink)
    : m_config(config)
    , m_sink(sink)
    , m_regions(config.seed)
{
}

RoceEngine::~RoceEngine()
{
    // QPs first: they hold their PD and CQs.
    m_gsi.clear();
    m_qps.clear();
}

// The analyzer loses track of an OwnPtr moved into ErrorOr (as in
// kernel/lib/containers_check.cpp).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<RoceEngine>> RoceEngine::try_create(const EngineConfig& config, PacketSink& sink)
{
    auto engine = TRY(adopt_own_if_nonnull(new (kstd::nothrow) RoceEngine(config, sink)));
    TRY(engine->m_packet.try_resize(roce_max_packet_size));
    TRY(engine->m_payload.try_resize(4096));
    return engine;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

// The analyzer loses track of an OwnPtr moved into ErrorOr (as in
// kernel/lib/containers_check.cpp).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<ProtectionDomain*> RoceEngine::alloc_pd()
{
    auto pd = TRY(try_make_own<ProtectionDomain>(m_next_pd_handle++));
    ProtectionDomain* raw = pd.ptr();
    TRY(m_pds.try_append(kstd::move(pd)));
    return raw;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

ErrorOr<void> RoceEngine::dealloc_pd(ProtectionDomain& pd)
{
    if (pd.users() != 0)
        return Error(Errno::BUSY, "PD still in use");
    return remove_owned(m_pds, pd);
}

ErrorOr<MemoryRegion*> RoceEngine::register_mr(
    ProtectionDomain& pd, void* base, uint64_t virtual_address, uint64_t length, uint32_t access)
{
    return m_regions.register_region(pd, base, virtual_address, length, access);
}

ErrorOr<void> RoceEngine::deregister_mr(MemoryRegion& region) { return m_regions.deregister(region); }

ErrorOr<CompletionQueue*> RoceEngine::create_cq(size_t capacity)
{
    auto cq = TRY(CompletionQueue::try_create(capacity));
    CompletionQueue* raw = cq.ptr();
    TRY(m_cqs.try_append(kstd::move(cq)));
    return raw;
}

ErrorOr<void> RoceEngine::destroy_cq(CompletionQueue& cq)
{
    if (cq.users() != 0)
        return Error(Errno::BUSY, "CQ still in use");
    return remove_owned(m_cqs, cq);
}

ErrorOr<QueuePair*> RoceEngine::create_qp(const QpInitAttr& init)
{
    if (init.qp_type == QpType::Gsi) {
        if (m_gsi)
            return Error(Errno::EXIST, "QP1 exists");
        m_gsi = TRY(QueuePair::try_create(*this, init, gsi_qpn));
        return m_gsi.ptr();
    }
    if (m_qps.size() >= max_qps)
        return Error(Errno::NOMEM, "out of QPNs");
    uint32_t qpn = first_qpn + static_cast<uint32_t>(m_qps.size());
    auto qp = TRY(QueuePair::try_create(*this, init, qpn));
    QueuePair* raw = qp.ptr();
    TRY(m_qps.try_append(kstd::move(qp)));
    return raw;
}

ErrorOr<void> RoceEngine::destroy_qp(QueuePair& qp)
{
    if (&qp == m_gsi.ptr()) {
        m_gsi.clear();
        return {};
    }
    // QPNs are table indices; a destroyed QP leaves an empty slot so that no
    // later QP inherits its number (and its peer's stale packets).
    for (auto& slot : m_qps) {
        if (slot.ptr() == &qp) {
            slot.clear();
            return {};
        }
    }
    return Error(Errno::INVAL, "QP not owned by this engine");
}

QueuePair* RoceEngine::find_qp(uint32_t qpn) const
{
    if (qpn == gsi_qpn)
        return m_gsi.ptr();
    if (qpn < first_qpn || qpn - first_qpn >= m_qps.size())
        return nullptr;
    return m_qps[qpn - first_qpn].ptr();
}

void RoceEngine::transmit(PacketAddressing addressing, const TransportHeaders& headers, Span<const uint8_t> payload)
{
    addressing.source = m_config.local_ip;
    addressing.identification = m_ip_identification++;
    auto size = build_roce_packet(addressing, headers, payload, m_packet.span());
    VERIFY(!size.is_error()); // the QPs only build packets that fit
    if (m_sink.transmit(m_packet.span().first(size.value())).is_error()) {
        ++m_counters.sink_failures;
        return;
    }
    ++m_counters.sent_packets;
}

// The checks rxe's hdr_check makes once the packet itself is sound
// (docs/wire/roce-v2.md "Receive filters").
DropReason RoceEngine::check_for_qp(const ReceivedPacket& packet, QueuePair*& qp) const
{
    const Bth& bth = packet.transport.headers.bth;
    // P_Key: the low 15 bits must match the default partition 0x7FFF.
    if ((bth.pkey & 0x7FFF) != 0x7FFF)
        return DropReason::BadPkey;
    qp = bth.dest_qpn == 0 ? nullptr : find_qp(bth.dest_qpn);
    if (qp == nullptr)
        return DropReason::UnknownQpn;
    uint8_t opcode = static_cast<uint8_t>(bth.opcode);
    if (qp->is_ud() ? !is_ud_opcode(opcode) : !is_rc_opcode(opcode))
        return DropReason::WrongTransport;
    QpState state = qp->state();
    if (state != QpState::Rtr && state != QpState::Rts && state != QpState::Sqd)
        return DropReason::BadState;
    if (!qp->is_ud() && !(packet.addressing.source == qp->attr().ah_attr.destination))
        return DropReason::WrongSource;
    return DropReason::None;
}

void RoceEngine::receive(Span<const uint8_t> ip_packet, uint64_t now_ns)
{
    ParsedPacket parsed = parse_roce_packet(ip_packet, m_config.local_ip);
    if (parsed.reason != DropReason::None) {
        drop(parsed.reason);
        return;
    }
    QueuePair* qp = nullptr;
    DropReason reason = check_for_qp(parsed.packet, qp);
    if (reason != DropReason::None) {
        drop(reason);
        return;
    }
    ++m_counters.received_packets;
    qp->receive(parsed.packet, now_ns);
}

void RoceEngine::poll(uint64_t now_ns)
{
    if (m_gsi)
        m_gsi->poll(now_ns);
    for (auto& qp : m_qps) {
        if (qp)
            qp->poll(now_ns);
    }
}

uint64_t RoceEngine::next_deadline_ns() const
{
    uint64_t next = m_gsi ? m_gsi->next_deadline_ns() : no_deadline;
    for (const auto& qp : m_qps) {
        if (qp) {
            uint64_t deadline = qp->next_deadline_ns();
            next = deadline < next ? deadline : next;
        }
    }
    return next;
}

} // namespace tessera::rdma
