#pragma once
// SimulatedLink: a one-way wire for host tests of protocols (the RoCE
// engine, RPC, the CM). Packets are byte vectors; time is virtual
// (nanoseconds, advanced by the test); impairments come from a seeded RNG so
// a failing seed reproduces exactly. Two links make a duplex cable.
//
//   SimulatedLink link({ .loss = 0.01, .seed = 7 });
//   link.send(now, packet);
//   for (auto& p : link.deliver_due(now + 1'000'000)) peer.receive(p);
//
// Every packet sent is accounted for in counters(): delivered, lost,
// duplicated, reordered, corrupted (one bit flipped), or still in flight.

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace tessera::test {

struct LinkImpairments {
    double loss { 0.0 }; // Probability a packet is dropped.
    double duplicate { 0.0 }; // Probability a packet is delivered twice.
    double reorder { 0.0 }; // Probability a packet is held back by reorder_delay_ns.
    double corrupt { 0.0 }; // Probability one random bit of a copy is flipped.
    uint64_t delay_ns { 10'000 }; // Base one-way latency.
    uint64_t reorder_delay_ns { 50'000 };
    bool partitioned { false }; // Drop everything (a cut cable, a dead node).
    uint64_t seed { 1 };
};

struct LinkCounters {
    uint64_t sent { 0 };
    uint64_t delivered { 0 };
    uint64_t lost { 0 };
    uint64_t duplicated { 0 };
    uint64_t reordered { 0 };
    uint64_t corrupted { 0 };
};

class SimulatedLink {
public:
    using Packet = std::vector<uint8_t>;

    explicit SimulatedLink(LinkImpairments impairments = {})
        : m_impairments(impairments)
        , m_rng(impairments.seed)
    {
    }

    void set_partitioned(bool partitioned) { m_impairments.partitioned = partitioned; }
    LinkImpairments& impairments() { return m_impairments; }
    const LinkCounters& counters() const { return m_counters; }
    size_t in_flight() const { return m_queue.size(); }

    void send(uint64_t now_ns, const Packet& packet)
    {
        ++m_counters.sent;
        if (m_impairments.partitioned || chance(m_impairments.loss)) {
            ++m_counters.lost;
            return;
        }
        enqueue(now_ns, packet);
        if (chance(m_impairments.duplicate)) {
            ++m_counters.duplicated;
            enqueue(now_ns, packet);
        }
    }

    // Packets whose arrival time is <= now_ns, in arrival order.
    std::vector<Packet> deliver_due(uint64_t now_ns)
    {
        std::stable_sort(
            m_queue.begin(), m_queue.end(), [](const Entry& a, const Entry& b) { return a.arrival_ns < b.arrival_ns; });
        std::vector<Packet> due;
        size_t taken = 0;
        while (taken < m_queue.size() && m_queue[taken].arrival_ns <= now_ns)
            due.push_back(std::move(m_queue[taken++].packet));
        m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(taken));
        m_counters.delivered += due.size();
        return due;
    }

    // The earliest arrival still queued, or UINT64_MAX.
    uint64_t next_arrival_ns() const
    {
        uint64_t next = UINT64_MAX;
        for (const auto& entry : m_queue)
            next = std::min(next, entry.arrival_ns);
        return next;
    }

private:
    struct Entry {
        uint64_t arrival_ns;
        Packet packet;
    };

    bool chance(double probability)
    {
        if (probability <= 0.0)
            return false;
        return std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < probability;
    }

    void enqueue(uint64_t now_ns, Packet packet)
    {
        uint64_t arrival = now_ns + m_impairments.delay_ns;
        if (chance(m_impairments.reorder)) {
            ++m_counters.reordered;
            arrival += m_impairments.reorder_delay_ns;
        }
        if (!packet.empty() && chance(m_impairments.corrupt)) {
            ++m_counters.corrupted;
            size_t bit = std::uniform_int_distribution<size_t>(0, packet.size() * 8 - 1)(m_rng);
            packet[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        }
        m_queue.push_back({ arrival, std::move(packet) });
    }

    LinkImpairments m_impairments;
    std::mt19937_64 m_rng;
    LinkCounters m_counters;
    std::vector<Entry> m_queue;
};

} // namespace tessera::test
