#pragma once
// Where the CM's MADs go: the RoCE engine's UD QP 1, which wraps each
// 256-byte MAD in BTH + DETH (Q_Key `qkey`, source QP 1) and IPv4/UDP 4791
// to `destination`. A failed send is a loss like any other: the CM's own
// timers recover it, so the sink returns nothing.

#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera::rdma::cm {

class CmMadSink {
public:
    virtual ~CmMadSink() = default;
    virtual void send_mad(Ipv4Address destination, uint32_t remote_qpn, uint32_t qkey, Span<const uint8_t> mad) = 0;
};

} // namespace tessera::rdma::cm
