#pragma once
// A simulated queue pair for host tests of net/rpc: two RpcTransports joined
// by two SimulatedLinks (so loss, duplication, reordering, corruption and
// partitions come from a seeded RNG), each end with its own node's
// MemoryRegionTable for RDMA WRITE and READ.
//
// Every packet carries a CRC32 (standing in for RoCE's ICRC): a corrupted
// packet is dropped and counted, never delivered. Two modes:
//
//   Reliable  an RC QP in miniature: one sequenced stream per direction
//             (SEND, WRITE, READ request and response share it, so a reply
//             never overtakes a WRITE), cumulative ACKs, go-back-N
//             retransmission after retransmit_timeout_ns, and the QP goes to
//             the error state (transport_failed, ETIMEDOUT) after
//             retry_limit retransmissions without progress. A remote access
//             error NAKs the WRITE/READ and takes both ends to error.
//   Datagram  no sequencing: the link's impairments reach the RPC layer
//             (delay, loss, duplicates, reordering), to test what the
//             endpoint does with them. A WRITE completes when posted; a
//             READ whose response is lost never completes (its exchange
//             stays), so test flushes in Reliable mode.
//
// Time is virtual: advance(now_ns) delivers what is due and runs timers;
// next_event_ns() says when something happens next.

#include <cstring>
#include <deque>
#include <map>
#include <net/rpc/lib/memory_region_table.h>
#include <net/rpc/lib/rpc_transport.h>
#include <simulated_link.h>
#include <vector>

namespace tessera::test {

enum class SimulatedQpMode { Reliable, Datagram };

struct SimulatedQpConfig {
    SimulatedQpMode mode { SimulatedQpMode::Reliable };
    uint64_t retransmit_timeout_ns { 200'000 };
    uint32_t retry_limit { 7 };
    size_t max_message_size { 4096 + 32 };
};

struct SimulatedQpCounters {
    uint64_t crc_drops { 0 };
    uint64_t retransmissions { 0 };
    uint64_t out_of_order_drops { 0 };
    uint64_t duplicate_drops { 0 };
    uint64_t remote_access_errors { 0 };
};

class SimulatedRpcCable;

class SimulatedQp final : public rpc::RpcTransport {
public:
    void attach(rpc::RpcTransportSink& sink) override { m_sink = &sink; }
    size_t max_message_size() const override { return m_config.max_message_size; }
    ErrorOr<void> send(Span<const uint8_t> message, uint64_t now_ns) override;
    ErrorOr<void> rdma_write(
        uint64_t work_id, Span<const uint8_t> local, uint32_t lkey, rpc::RemoteBuffer remote, uint64_t now_ns) override;
    ErrorOr<void> rdma_read(
        uint64_t work_id, rpc::RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey, uint64_t now_ns) override;

    rpc::MemoryRegionTable& memory() { return m_memory; }
    const SimulatedQpCounters& counters() const { return m_counters; }
    bool in_error() const { return m_error; }

private:
    friend class SimulatedRpcCable;

    enum class Type : uint8_t { Send, Write, ReadRequest, ReadResponse, Ack, Nak };
    struct Header {
        uint32_t crc;
        uint8_t type;
        uint8_t pad[3];
        uint32_t seq;
        uint32_t ack;
        uint32_t rkey;
        uint64_t work_id;
        uint64_t address;
        uint64_t length;
    };
    struct Unacked {
        uint32_t seq;
        Type type;
        uint64_t work_id;
        SimulatedLink::Packet packet;
    };
    struct Event {
        enum Kind { Completed, Failed } kind;
        uint64_t work_id;
        bool ok;
        Errno error;
    };

    static uint32_t crc32(const uint8_t* data, size_t size);
    SimulatedLink::Packet build(Type type, uint32_t seq, uint64_t work_id, uint64_t address, uint32_t rkey,
        uint64_t length, Span<const uint8_t> data) const;
    static void seal(SimulatedLink::Packet& packet);
    void transmit_sequenced(Type type, uint64_t work_id, uint64_t address, uint32_t rkey, uint64_t length,
        Span<const uint8_t> data, uint64_t now_ns);
    void transmit_control(Type type, uint64_t work_id, uint64_t now_ns);
    void receive(const SimulatedLink::Packet& packet, uint64_t now_ns);
    void process(const Header& header, Span<const uint8_t> data, uint64_t now_ns);
    void acknowledge(uint32_t ack, uint64_t now_ns);
    void go_to_error(Errno reason, uint64_t now_ns);
    void run_timer(uint64_t now_ns);
    uint64_t next_timer_ns() const;

    SimulatedQpConfig m_config;
    SimulatedLink* m_out { nullptr };
    SimulatedQp* m_peer { nullptr };
    rpc::RpcTransportSink* m_sink { nullptr };
    rpc::MemoryRegionTable m_memory;
    SimulatedQpCounters m_counters;
    bool m_error { false };
    uint32_t m_next_seq { 0 };
    uint32_t m_expected_seq { 0 };
    std::deque<Unacked> m_unacked;
    uint32_t m_retries { 0 };
    uint64_t m_retransmit_at_ns { UINT64_MAX };
    std::map<uint64_t, Span<uint8_t>> m_pending_reads;
    std::deque<Event> m_events; // completions raised inside a post, delivered by advance()
};

class SimulatedRpcCable {
public:
    SimulatedRpcCable(LinkImpairments first_to_second, LinkImpairments second_to_first, SimulatedQpConfig config = {})
        : m_links { SimulatedLink(first_to_second), SimulatedLink(second_to_first) }
    {
        for (int i = 0; i < 2; ++i) {
            m_ends[i].m_config = config;
            m_ends[i].m_out = &m_links[i];
            m_ends[i].m_peer = &m_ends[1 - i];
        }
    }
    SimulatedRpcCable(const SimulatedRpcCable&) = delete;
    SimulatedRpcCable& operator=(const SimulatedRpcCable&) = delete;

    SimulatedQp& first() { return m_ends[0]; }
    SimulatedQp& second() { return m_ends[1]; }
    SimulatedLink& first_to_second() { return m_links[0]; }
    SimulatedLink& second_to_first() { return m_links[1]; }
    void set_partitioned(bool partitioned)
    {
        m_links[0].set_partitioned(partitioned);
        m_links[1].set_partitioned(partitioned);
    }

    // Delivers every packet due by now_ns to its end, then runs timers.
    void advance(uint64_t now_ns);
    uint64_t next_event_ns() const;

private:
    SimulatedLink m_links[2];
    SimulatedQp m_ends[2];
};

} // namespace tessera::test
