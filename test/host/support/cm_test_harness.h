#pragma once
// Two CmEngines over a pair of SimulatedLinks (a duplex cable with virtual
// time) with fake QP ops that record every QP transition, for the CM host
// tests. A is the passive side (192.0.2.1), B the active one (192.0.2.2),
// as in docs/wire/rdma-cm.md's captures.

#include <net/rdma/cm/lib/cm_engine.h>

#include "simulated_link.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

namespace tessera::test {

using namespace tessera::rdma::cm;

constexpr uint64_t ms = 1'000'000;

struct FakeQp {
    enum class State { Reset, Init, Rtr, Rts, Error } state { State::Reset };
    uint64_t context { 0 };
    QpInitAttributes init;
    QpRtrAttributes rtr;
    QpRtsAttributes rts;
    bool destroyed { false };
};

class FakeQpOps final : public CmQpOps {
public:
    explicit FakeQpOps(uint32_t first_qpn)
        : m_next_qpn(first_qpn)
    {
    }

    ErrorOr<uint32_t> create_rc_qp(uint64_t context) override
    {
        if (fail_create)
            return Error(Errno::NOMEM, "planted");
        uint32_t qpn = m_next_qpn++;
        qps[qpn].context = context;
        return qpn;
    }
    ErrorOr<void> modify_to_init(uint32_t qpn, const QpInitAttributes& a) override
    {
        return step(qpn, FakeQp::State::Reset, FakeQp::State::Init, [&](FakeQp& qp) { qp.init = a; });
    }
    ErrorOr<void> modify_to_rtr(uint32_t qpn, const QpRtrAttributes& a) override
    {
        if (fail_rtr)
            return Error(Errno::INVAL, "planted");
        return step(qpn, FakeQp::State::Init, FakeQp::State::Rtr, [&](FakeQp& qp) { qp.rtr = a; });
    }
    ErrorOr<void> modify_to_rts(uint32_t qpn, const QpRtsAttributes& a) override
    {
        return step(qpn, FakeQp::State::Rtr, FakeQp::State::Rts, [&](FakeQp& qp) { qp.rts = a; });
    }
    void modify_to_error(uint32_t qpn) override
    {
        EXPECT_TRUE(qps.count(qpn) && !qps[qpn].destroyed) << "ERR on unknown QP " << qpn;
        qps[qpn].state = FakeQp::State::Error;
    }
    void destroy_qp(uint32_t qpn) override
    {
        EXPECT_TRUE(qps.count(qpn) && !qps[qpn].destroyed) << "destroy of unknown QP " << qpn;
        qps[qpn].destroyed = true;
    }

    size_t live() const
    {
        return static_cast<size_t>(
            std::count_if(qps.begin(), qps.end(), [](const auto& entry) { return !entry.second.destroyed; }));
    }

    std::map<uint32_t, FakeQp> qps;
    bool fail_create { false };
    bool fail_rtr { false };

private:
    template<typename F>
    ErrorOr<void> step(uint32_t qpn, FakeQp::State from, FakeQp::State to, F apply)
    {
        auto it = qps.find(qpn);
        if (it == qps.end() || it->second.destroyed)
            return Error(Errno::INVAL, "no such QP");
        // A real QP refuses a transition out of order; so does the fake, so
        // a CM that skips a step is caught.
        if (it->second.state != from && !(from == FakeQp::State::Reset && it->second.state == FakeQp::State::Init))
            return Error(Errno::INVAL, "QP transition out of order");
        apply(it->second);
        it->second.state = to;
        return {};
    }

    uint32_t m_next_qpn;
};

// One side's MAD sink: records what was sent, and puts it on the wire.
class LinkSink final : public CmMadSink {
public:
    LinkSink(SimulatedLink& link, const uint64_t& now)
        : m_link(link)
        , m_now(now)
    {
    }
    void send_mad(Ipv4Address destination, uint32_t remote_qpn, uint32_t qkey, Span<const uint8_t> mad) override
    {
        EXPECT_EQ(remote_qpn, 1u);
        EXPECT_EQ(qkey, 0x80010000u);
        EXPECT_EQ(mad.size(), 256u);
        destinations.push_back(destination);
        sent.emplace_back(mad.begin(), mad.end());
        if (drop_next > 0) {
            --drop_next; // a planted loss of exactly this send
            return;
        }
        if (std::find(drop_sends.begin(), drop_sends.end(), sent.size() - 1) != drop_sends.end())
            return; // a planted loss of the send with this index

        m_link.send(m_now, sent.back());
    }
    uint16_t attribute_of(size_t index) const { return static_cast<uint16_t>(sent[index][16] << 8 | sent[index][17]); }
    size_t count(CmAttribute attribute) const
    {
        size_t n = 0;
        for (size_t i = 0; i < sent.size(); ++i)
            n += attribute_of(i) == static_cast<uint16_t>(attribute) ? 1 : 0;
        return n;
    }

    std::vector<std::vector<uint8_t>> sent;
    std::vector<Ipv4Address> destinations;
    int drop_next { 0 };
    std::vector<size_t> drop_sends; // 0-based indices into `sent`

private:
    SimulatedLink& m_link;
    const uint64_t& m_now;
};

struct CmSide {
    CmSide(const char* name, Ipv4Address ip, uint64_t guid, uint64_t seed, uint32_t first_qpn, SimulatedLink& out,
        const uint64_t& now)
        : name(name)
        , ip(ip)
        , qp_ops(first_qpn)
        , sink(out, now)
    {
        CmConfig config;
        config.local_ip = ip;
        config.ca_guid = guid;
        config.random_seed = seed;
        engine = MUST(CmEngine::try_create(config, sink, qp_ops));
    }

    size_t count(CmEventType type) const
    {
        return static_cast<size_t>(
            std::count_if(events.begin(), events.end(), [&](const CmEvent& e) { return e.type == type; }));
    }
    const CmEvent* last(CmEventType type) const
    {
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            if (it->type == type)
                return &*it;
        }
        return nullptr;
    }

    const char* name;
    Ipv4Address ip;
    FakeQpOps qp_ops;
    LinkSink sink;
    OwnPtr<CmEngine> engine;
    std::vector<CmEvent> events;
    // What the user does on ConnectRequest; the default accepts at once.
    std::function<void(CmSide&, const CmEvent&)> on_connect_request;
};

class CmPair {
public:
    static constexpr Ipv4Address ip_a { { 192, 0, 2, 1 } };
    static constexpr Ipv4Address ip_b { { 192, 0, 2, 2 } };

    explicit CmPair(LinkImpairments a_to_b = {}, LinkImpairments b_to_a = {})
        : link_ab(a_to_b)
        , link_ba(b_to_a)
        , a("A", ip_a, 0x505400fffe000201, 0x1234, 0x11, link_ab, now)
        , b("B", ip_b, 0x505400fffe000202, 0x5678, 0x11, link_ba, now)
    {
        a.on_connect_request = [this](CmSide& side, const CmEvent& event) {
            EXPECT_FALSE(side.engine->accept(event.id, {}, now).is_error());
        };
    }

    // Runs the two engines and the wire until `until_ns` or until nothing is
    // pending; every event goes to the side's list (and its policy).
    void run_until(uint64_t until_ns)
    {
        for (;;) {
            drain(a);
            drain(b);
            uint64_t next = std::min({ link_ab.next_arrival_ns(), link_ba.next_arrival_ns(),
                a.engine->next_deadline_ns(), b.engine->next_deadline_ns() });
            if (next == UINT64_MAX || next > until_ns) {
                now = std::max(now, until_ns == UINT64_MAX ? now : until_ns);
                return;
            }
            now = std::max(now, next);
            for (auto& packet : link_ab.deliver_due(now))
                b.engine->on_mad(ip_a, Span<const uint8_t>(packet.data(), packet.size()), now);
            for (auto& packet : link_ba.deliver_due(now))
                a.engine->on_mad(ip_b, Span<const uint8_t>(packet.data(), packet.size()), now);
            a.engine->poll(now);
            b.engine->poll(now);
        }
    }
    void run_for(uint64_t duration_ns) { run_until(now + duration_ns); }

    CmConnectionId connect(uint16_t port = 20001)
    {
        CmConnectParams params { .peer = ip_a, .port = port, .local_port = 44462 };
        return MUST(b.engine->connect(params, now));
    }

    uint64_t now { 0 };
    SimulatedLink link_ab;
    SimulatedLink link_ba;
    CmSide a;
    CmSide b;

private:
    void drain(CmSide& side)
    {
        while (auto event = side.engine->take_event()) {
            side.events.push_back(event.value());
            if (event.value().type == CmEventType::ConnectRequest && side.on_connect_request)
                side.on_connect_request(side, event.value());
        }
    }
};

} // namespace tessera::test
