#include <net/rdma/node/lib/rdma_node.h>

namespace tessera::rdma {

PathMtu path_mtu_for_link_mtu(uint32_t link_mtu)
{
    uint32_t room = link_mtu > 80 ? link_mtu - 80 : 0;
    for (uint8_t code = static_cast<uint8_t>(PathMtu::Mtu4096); code > static_cast<uint8_t>(PathMtu::Mtu256); --code) {
        if (room >= path_mtu_bytes(static_cast<PathMtu>(code)))
            return static_cast<PathMtu>(code);
    }
    return PathMtu::Mtu256;
}

uint64_t ca_guid_from_mac(const uint8_t (&mac)[6])
{
    uint8_t eui[8] = { static_cast<uint8_t>(mac[0] ^ 2), mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5] };
    uint64_t guid = 0;
    for (uint8_t byte : eui)
        guid = guid << 8 | byte;
    return guid;
}

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a leak that cannot happen (as in
// net/rdma/cm/lib/cm_engine.cpp; host tests under ASan cover the path).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<RdmaNode>> RdmaNode::try_create(const RdmaNodeConfig& config, PacketSink& sink)
{
    auto node = TRY(adopt_own_if_nonnull(new (kstd::nothrow) RdmaNode()));
    node->m_engine = TRY(RoceEngine::try_create(
        { .local_ip = config.local_ip, .active_mtu = config.active_mtu, .seed = config.seed }, sink));
    node->m_gsi = TRY(
        GsiMadPort::try_create(*node->m_engine, config.gsi_receive_buffers, config.gsi_send_slots, node->m_counters));
    node->m_qp_ops = TRY(try_make_own<EngineQpOps>(*node->m_engine));

    cm::CmConfig cm_config;
    cm_config.local_ip = config.local_ip;
    cm_config.ca_guid = config.ca_guid;
    if (cm_config.ca_guid == 0) {
        const uint8_t* ip = config.local_ip.octets;
        uint8_t mac[6] = { 0x02, 0x00, ip[0], ip[1], ip[2], ip[3] };
        cm_config.ca_guid = ca_guid_from_mac(mac);
    }
    cm_config.random_seed = config.seed * 0x9e3779b97f4a7c15ull + 1;
    cm_config.path_mtu = static_cast<uint8_t>(config.active_mtu);
    node->m_cm = TRY(cm::CmEngine::try_create(cm_config, *node->m_gsi, *node->m_qp_ops));
    return node;
}

// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

RdmaNode::~RdmaNode()
{
    // The CM's connections' QPs first (the CM holds no QP pointers: only
    // QPNs, and the engine frees the QPs it owns), then the GSI port, then
    // the engine.
    m_cm.clear();
    m_qp_ops.clear();
    m_gsi.clear();
    m_engine.clear();
}

ErrorOr<void> RdmaNode::listen(uint16_t port) { return m_cm->listen(port); }

void RdmaNode::stop_listening(uint16_t port) { m_cm->stop_listening(port); }

ErrorOr<cm::CmConnectionId> RdmaNode::connect(const RdmaConnectParams& params, uint64_t now_ns)
{
    cm::CmConnectParams cm_params;
    cm_params.peer = params.peer;
    cm_params.port = params.port;
    cm_params.local_port = params.local_port;
    cm_params.responder_resources = params.responder_resources;
    cm_params.initiator_depth = params.initiator_depth;
    cm_params.private_data = params.private_data;
    cm_params.qp_context = EngineQpOps::context_of(params.qp);
    auto id = m_cm->connect(cm_params, now_ns);
    pump(now_ns);
    return id;
}

ErrorOr<void> RdmaNode::accept(cm::CmConnectionId id, const RdmaAcceptParams& params, uint64_t now_ns)
{
    cm::CmAcceptParams cm_params;
    cm_params.responder_resources = params.responder_resources;
    cm_params.initiator_depth = params.initiator_depth;
    cm_params.private_data = params.private_data;
    cm_params.qp_context = EngineQpOps::context_of(params.qp);
    auto result = m_cm->accept(id, cm_params, now_ns);
    pump(now_ns);
    return result;
}

ErrorOr<void> RdmaNode::reject(cm::CmConnectionId id, uint64_t now_ns)
{
    auto result = m_cm->reject(id, now_ns);
    pump(now_ns);
    return result;
}

ErrorOr<void> RdmaNode::disconnect(cm::CmConnectionId id, uint64_t now_ns)
{
    auto result = m_cm->disconnect(id, now_ns);
    pump(now_ns);
    return result;
}

void RdmaNode::receive(Span<const uint8_t> ip_packet, uint64_t now_ns)
{
    m_engine->receive(ip_packet, now_ns);
    pump(now_ns);
}

void RdmaNode::poll(uint64_t now_ns)
{
    m_engine->poll(now_ns);
    pump(now_ns);
    m_cm->poll(now_ns);
    pump(now_ns);
}

// MADs that arrived go to the CM; what the CM (or the user) queued on any
// QP goes out. Repeated while QP 1 has completions, since a MAD handled may
// produce another send whose completion frees a slot.
void RdmaNode::pump(uint64_t now_ns)
{
    struct Delivery {
        cm::CmEngine* cm;
        uint64_t now;
    } delivery { m_cm.ptr(), now_ns };
    auto handler = [](void* context, Ipv4Address source, Span<const uint8_t> mad) {
        auto* d = static_cast<Delivery*>(context);
        d->cm->on_mad(source, mad, d->now);
    };
    for (int round = 0; round < 8; ++round) {
        m_gsi->process_completions(handler, &delivery);
        m_engine->poll(now_ns);
        if (m_engine->next_deadline_ns() != 0 && !m_gsi->has_completions())
            break;
    }
}

uint64_t RdmaNode::next_deadline_ns() const
{
    uint64_t engine = m_engine->next_deadline_ns();
    uint64_t cm = m_cm->next_deadline_ns();
    uint64_t next = engine < cm ? engine : cm;
    return next == UINT64_MAX ? no_deadline : next;
}

Optional<RdmaEvent> RdmaNode::take_event()
{
    auto event = m_cm->take_event();
    if (!event.has_value())
        return {};
    RdmaEvent out;
    out.cm = event.value();
    if (out.cm.type == cm::CmEventType::Established || out.cm.type == cm::CmEventType::Disconnected)
        out.qp = out.cm.qpn != 0 ? m_engine->find_qp(out.cm.qpn) : nullptr;
    return out;
}

const RdmaNodeCounters& RdmaNode::counters() const { return m_counters; }

} // namespace tessera::rdma
