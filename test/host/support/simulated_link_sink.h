#pragma once
// A RoCE PacketSink that puts every whole IPv4 packet on a SimulatedLink at
// the harness's virtual time, with an optional tap that sees (and may
// change) each packet first. One class for every RDMA harness (rdma_pair.h,
// rdma_node_pair.h), in a namespace of its own: two classes of one name in
// different harnesses are an ODR violation UBSan's vptr check catches.

#include <functional>
#include <net/rdma/lib/packet_sink.h>
#include <simulated_link.h>

namespace tessera::test {

class SimulatedLinkSink : public rdma::PacketSink {
public:
    SimulatedLinkSink(SimulatedLink& link, const uint64_t& now)
        : m_link(link)
        , m_now(now)
    {
    }
    ErrorOr<void> transmit(Span<const uint8_t> packet) override
    {
        SimulatedLink::Packet copy(packet.begin(), packet.end());
        if (m_tap)
            m_tap(copy);
        m_link.send(m_now, copy);
        return {};
    }

    std::function<void(SimulatedLink::Packet&)> m_tap;

private:
    SimulatedLink& m_link;
    const uint64_t& m_now;
};

} // namespace tessera::test
