#pragma once
// Two RoCE engines joined by a pair of SimulatedLinks, in virtual time, for
// the rdma_*_test suites. Each side gets a PD, a CQ, one RC QP and a buffer
// registered as one MR with every access flag.
//
//   RdmaPair pair({ .loss = 0.01, .seed = 3 });
//   pair.connect({ .mtu = PathMtu::Mtu1024 });
//   MUST(pair.a.qp->post_send(wr));
//   ASSERT_TRUE(pair.run_until([&] { return pair.b.cq->size() == 1; }));

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <net/rdma/lib/roce_engine.h>
#include <simulated_link.h>
#include <simulated_link_sink.h>
#include <vector>

namespace tessera::test::roce {

using namespace tessera::rdma;

using LinkSink = SimulatedLinkSink;

struct Endpoint {
    OwnPtr<RoceEngine> engine;
    ProtectionDomain* pd { nullptr };
    CompletionQueue* cq { nullptr };
    QueuePair* qp { nullptr };
    std::vector<uint8_t> buffer;
    MemoryRegion* mr { nullptr };

    uint64_t va(size_t offset = 0) const { return mr->virtual_address() + offset; }
    Sge sge(size_t offset, uint32_t length) const { return { va(offset), length, mr->lkey() }; }
    std::vector<WorkCompletion> drain()
    {
        std::vector<WorkCompletion> out;
        WorkCompletion wc[16];
        while (size_t n = cq->poll(Span<WorkCompletion>(wc, 16)))
            out.insert(out.end(), wc, wc + n);
        return out;
    }
};

struct ConnectOptions {
    PathMtu mtu { PathMtu::Mtu1024 };
    uint32_t psn_a { 0x100 };
    uint32_t psn_b { 0xFFFF00 }; // wraps during long tests
    uint8_t timeout { 10 }; // ~4.2 ms
    uint8_t retry_cnt { 6 };
    uint8_t rnr_retry { 6 };
    uint8_t min_rnr_timer { 1 }; // 10 us
    uint32_t access { access_local_write | access_remote_write | access_remote_read };
};

inline constexpr Ipv4Address ip_a { { 192, 0, 2, 1 } };
inline constexpr Ipv4Address ip_b { { 192, 0, 2, 2 } };

class RdmaPair {
public:
    explicit RdmaPair(LinkImpairments a_to_b = {}, LinkImpairments b_to_a = {}, size_t buffer_size = 1 << 20)
        : m_a_to_b(a_to_b)
        , m_b_to_a(with_seed(b_to_a, a_to_b.seed))
        , m_sink_a(m_a_to_b, now)
        , m_sink_b(m_b_to_a, now)
    {
        a = make_endpoint(ip_a, m_sink_a, buffer_size, 11);
        b = make_endpoint(ip_b, m_sink_b, buffer_size, 22);
    }

    static LinkImpairments with_seed(LinkImpairments impairments, uint64_t seed)
    {
        if (impairments.seed == 1)
            impairments.seed = seed * 7919 + 13;
        return impairments;
    }

    Endpoint make_endpoint(Ipv4Address ip, PacketSink& sink, size_t buffer_size, uint64_t seed)
    {
        Endpoint e;
        e.engine = MUST(RoceEngine::try_create({ .local_ip = ip, .seed = seed }, sink));
        e.pd = MUST(e.engine->alloc_pd());
        e.cq = MUST(e.engine->create_cq(4096));
        QpInitAttr init {
            .qp_type = QpType::Rc, .pd = e.pd, .send_cq = e.cq, .recv_cq = e.cq, .max_send_wr = 512, .max_recv_wr = 512
        };
        e.qp = MUST(e.engine->create_qp(init));
        e.buffer.assign(buffer_size, 0);
        e.mr = MUST(e.engine->register_mr(*e.pd, e.buffer.data(), 0x10000000 + seed * 0x1000000, buffer_size,
            access_local_write | access_remote_write | access_remote_read));
        return e;
    }

    static ErrorOr<void> bring_up(QueuePair& qp, Ipv4Address peer, uint32_t peer_qpn, uint32_t sq_psn, uint32_t rq_psn,
        const ConnectOptions& options)
    {
        QpAttr attr;
        attr.qp_state = QpState::Init;
        attr.qp_access_flags = options.access;
        TRY(qp.modify(attr, qp_attr_state | qp_attr_pkey_index | qp_attr_port | qp_attr_access_flags));
        attr.qp_state = QpState::Rtr;
        attr.ah_attr = { .destination = peer, .hop_limit = 1 };
        attr.path_mtu = options.mtu;
        attr.dest_qp_num = peer_qpn;
        attr.rq_psn = rq_psn;
        attr.max_dest_rd_atomic = 4;
        attr.min_rnr_timer = options.min_rnr_timer;
        TRY(qp.modify(attr,
            qp_attr_state | qp_attr_av | qp_attr_path_mtu | qp_attr_dest_qpn | qp_attr_rq_psn
                | qp_attr_max_dest_rd_atomic | qp_attr_min_rnr_timer));
        attr.qp_state = QpState::Rts;
        attr.sq_psn = sq_psn;
        attr.timeout = options.timeout;
        attr.retry_cnt = options.retry_cnt;
        attr.rnr_retry = options.rnr_retry;
        attr.max_rd_atomic = 4;
        TRY(qp.modify(attr,
            qp_attr_state | qp_attr_sq_psn | qp_attr_timeout | qp_attr_retry_cnt | qp_attr_rnr_retry
                | qp_attr_max_qp_rd_atomic));
        return {};
    }

    void connect(const ConnectOptions& options = {})
    {
        MUST(bring_up(*a.qp, ip_b, b.qp->qp_num(), options.psn_a, options.psn_b, options));
        MUST(bring_up(*b.qp, ip_a, a.qp->qp_num(), options.psn_b, options.psn_a, options));
    }

    // One event: the earliest deadline or arrival. False when nothing is
    // pending before `limit_ns`.
    bool step(uint64_t limit_ns)
    {
        uint64_t next = std::min({ a.engine->next_deadline_ns(), b.engine->next_deadline_ns(),
            m_a_to_b.next_arrival_ns(), m_b_to_a.next_arrival_ns() });
        if (next == no_deadline || next > limit_ns)
            return false;
        now = std::max(now, next);
        for (auto& packet : m_a_to_b.deliver_due(now))
            b.engine->receive(Span<const uint8_t>(packet.data(), packet.size()), now);
        for (auto& packet : m_b_to_a.deliver_due(now))
            a.engine->receive(Span<const uint8_t>(packet.data(), packet.size()), now);
        a.engine->poll(now);
        b.engine->poll(now);
        return true;
    }

    // Runs events until `done` holds (true) or nothing is left / the
    // virtual-time budget is spent (false).
    bool run_until(const std::function<bool()>& done, uint64_t budget_ns = 60'000'000'000ull)
    {
        uint64_t limit = now + budget_ns;
        while (!done()) {
            if (!step(limit))
                return done();
        }
        return true;
    }
    void run_idle(uint64_t budget_ns = 60'000'000'000ull)
    {
        uint64_t limit = now + budget_ns;
        while (step(limit)) { }
    }

    SimulatedLink& a_to_b() { return m_a_to_b; }
    SimulatedLink& b_to_a() { return m_b_to_a; }
    LinkSink& sink_a() { return m_sink_a; }
    LinkSink& sink_b() { return m_sink_b; }

    uint64_t now { 0 };

private:
    SimulatedLink m_a_to_b;
    SimulatedLink m_b_to_a;
    LinkSink m_sink_a;
    LinkSink m_sink_b;

public:
    Endpoint a;
    Endpoint b;
};

inline void fill_pattern(std::vector<uint8_t>& buffer, size_t offset, size_t length, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < length; ++i) {
        x = x * 1103515245u + 12345u;
        buffer[offset + i] = static_cast<uint8_t>(x >> 16);
    }
}

inline SendWr make_wr(uint64_t wr_id, WrOpcode opcode, Sge sge, uint64_t remote_addr = 0, uint32_t rkey = 0)
{
    SendWr wr;
    wr.wr_id = wr_id;
    wr.opcode = opcode;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    wr.remote_addr = remote_addr;
    wr.rkey = rkey;
    return wr;
}

inline RecvWr make_recv(uint64_t wr_id, Sge sge)
{
    RecvWr wr;
    wr.wr_id = wr_id;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    return wr;
}

} // namespace tessera::test::roce
