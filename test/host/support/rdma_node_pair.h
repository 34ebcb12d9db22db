#pragma once
// Two RdmaNodes (RoCE engine + CM, net/rdma/node/lib) over a pair of
// SimulatedLinks in virtual time, for tests of anything built on the
// connection API (rping, the RPC transport). Each side has a PD, a CQ and a
// 1 MiB buffer registered with every access flag; events go to a per-side
// list and through an optional policy (the default accepts every
// ConnectRequest with the side's PD and CQ).
//
//   NodePair pair({ .loss = 0.05, .seed = 7 });
//   MUST(pair.a.node->listen(7174));
//   auto id = pair.connect_b_to_a(7174);
//   ASSERT_TRUE(pair.run_until([&] { return pair.b.established_qp != nullptr; }));

#include <algorithm>
#include <functional>
#include <net/rdma/node/lib/rdma_node.h>
#include <simulated_link.h>
#include <simulated_link_sink.h>
#include <vector>

namespace tessera::test::node {

using namespace tessera::rdma;

using LinkSink = SimulatedLinkSink;

struct NodeSide {
    NodeSide(Ipv4Address ip, uint64_t seed, SimulatedLink& out, const uint64_t& now)
        : ip(ip)
        , sink(out, now)
    {
        node = MUST(RdmaNode::try_create({ .local_ip = ip, .seed = seed }, sink));
        pd = MUST(node->engine().alloc_pd());
        cq = MUST(node->engine().create_cq(4096));
        buffer.assign(1 << 20, 0);
        mr = MUST(node->engine().register_mr(
            *pd, buffer.data(), buffer.size(), access_local_write | access_remote_write | access_remote_read));
    }
    QpInitAttr qp_attr() const
    {
        return {
            .qp_type = QpType::Rc, .pd = pd, .send_cq = cq, .recv_cq = cq, .max_send_wr = 256, .max_recv_wr = 256
        };
    }
    size_t count(cm::CmEventType type) const
    {
        return static_cast<size_t>(
            std::count_if(events.begin(), events.end(), [&](const RdmaEvent& e) { return e.type() == type; }));
    }
    const RdmaEvent* last(cm::CmEventType type) const
    {
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            if (it->type() == type)
                return &*it;
        }
        return nullptr;
    }
    Sge sge(size_t offset, uint32_t length) const { return { mr->virtual_address() + offset, length, mr->lkey() }; }
    std::vector<WorkCompletion> drain()
    {
        std::vector<WorkCompletion> out;
        WorkCompletion wc[16];
        while (size_t n = cq->poll(Span<WorkCompletion>(wc, 16)))
            out.insert(out.end(), wc, wc + n);
        return out;
    }

    Ipv4Address ip;
    LinkSink sink;
    OwnPtr<RdmaNode> node;
    ProtectionDomain* pd { nullptr };
    CompletionQueue* cq { nullptr };
    std::vector<uint8_t> buffer;
    MemoryRegion* mr { nullptr };
    std::vector<RdmaEvent> events;
    QueuePair* established_qp { nullptr }; // the last Established event's QP
    std::function<void(NodeSide&, const RdmaEvent&)> on_connect_request;
};

class NodePair {
public:
    static constexpr Ipv4Address ip_a { { 192, 0, 2, 1 } };
    static constexpr Ipv4Address ip_b { { 192, 0, 2, 2 } };

    explicit NodePair(LinkImpairments a_to_b = {}, LinkImpairments b_to_a = {})
        : link_ab(a_to_b)
        , link_ba(with_seed(b_to_a, a_to_b.seed))
        , a(ip_a, 11, link_ab, now)
        , b(ip_b, 22, link_ba, now)
    {
        auto accept_all = [this](NodeSide& side, const RdmaEvent& event) {
            RdmaAcceptParams params;
            params.qp = side.qp_attr();
            EXPECT_FALSE(side.node->accept(event.id(), params, now).is_error());
        };
        a.on_connect_request = accept_all;
        b.on_connect_request = accept_all;
    }

    static LinkImpairments with_seed(LinkImpairments impairments, uint64_t seed)
    {
        if (impairments.seed == 1)
            impairments.seed = seed * 7919 + 13;
        return impairments;
    }

    cm::CmConnectionId connect_b_to_a(uint16_t port)
    {
        RdmaConnectParams params;
        params.peer = ip_a;
        params.port = port;
        params.qp = b.qp_attr();
        return MUST(b.node->connect(params, now));
    }

    // One event (the earliest deadline or arrival); false when nothing is
    // pending before limit_ns.
    bool step(uint64_t limit_ns)
    {
        drain_events(a);
        drain_events(b);
        uint64_t next = std::min({ a.node->next_deadline_ns(), b.node->next_deadline_ns(), link_ab.next_arrival_ns(),
            link_ba.next_arrival_ns() });
        if (next == no_deadline || next == UINT64_MAX || next > limit_ns)
            return false;
        now = std::max(now, next);
        for (auto& packet : link_ab.deliver_due(now))
            b.node->receive(Span<const uint8_t>(packet.data(), packet.size()), now);
        for (auto& packet : link_ba.deliver_due(now))
            a.node->receive(Span<const uint8_t>(packet.data(), packet.size()), now);
        a.node->poll(now);
        b.node->poll(now);
        drain_events(a);
        drain_events(b);
        return true;
    }
    bool run_until(const std::function<bool()>& done, uint64_t budget_ns = 120'000'000'000ull)
    {
        uint64_t limit = now + budget_ns;
        while (!done()) {
            if (!step(limit))
                return done();
        }
        return true;
    }
    void run_for(uint64_t duration_ns)
    {
        uint64_t limit = now + duration_ns;
        while (step(limit)) { }
        now = std::max(now, limit);
    }

    uint64_t now { 0 };
    SimulatedLink link_ab;
    SimulatedLink link_ba;
    NodeSide a;
    NodeSide b;

private:
    void drain_events(NodeSide& side)
    {
        while (auto event = side.node->take_event()) {
            side.events.push_back(event.value());
            if (event.value().type() == cm::CmEventType::Established)
                side.established_qp = event.value().qp;
            if (event.value().type() == cm::CmEventType::ConnectRequest && side.on_connect_request)
                side.on_connect_request(side, event.value());
        }
    }
};

} // namespace tessera::test::node
