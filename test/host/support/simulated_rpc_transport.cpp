#include <simulated_rpc_transport.h>

namespace tessera::test {

using rpc::RegionAccessRemoteRead;
using rpc::RegionAccessRemoteWrite;

uint32_t SimulatedQp::crc32(const uint8_t* data, size_t size)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; ++i) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

SimulatedLink::Packet SimulatedQp::build(Type type, uint32_t seq, uint64_t work_id, uint64_t address, uint32_t rkey,
    uint64_t length, Span<const uint8_t> data) const
{
    Header header {};
    header.type = static_cast<uint8_t>(type);
    header.seq = seq;
    header.work_id = work_id;
    header.address = address;
    header.rkey = rkey;
    header.length = length;
    SimulatedLink::Packet packet(sizeof(Header) + data.size());
    std::memcpy(packet.data(), &header, sizeof(Header));
    if (!data.is_empty())
        std::memcpy(packet.data() + sizeof(Header), data.data(), data.size());
    return packet;
}

// The CRC goes in last, after every other field is final.
void SimulatedQp::seal(SimulatedLink::Packet& packet)
{
    uint32_t crc = crc32(packet.data() + 4, packet.size() - 4);
    std::memcpy(packet.data(), &crc, 4);
}

void SimulatedQp::transmit_sequenced(Type type, uint64_t work_id, uint64_t address, uint32_t rkey, uint64_t length,
    Span<const uint8_t> data, uint64_t now_ns)
{
    uint32_t seq = m_next_seq++;
    SimulatedLink::Packet packet = build(type, seq, work_id, address, rkey, length, data);
    seal(packet);
    m_out->send(now_ns, packet);
    if (m_config.mode == SimulatedQpMode::Reliable) {
        if (m_unacked.empty())
            m_retransmit_at_ns = now_ns + m_config.retransmit_timeout_ns;
        m_unacked.push_back({ seq, type, work_id, std::move(packet) });
    }
}

void SimulatedQp::transmit_control(Type type, uint64_t work_id, uint64_t now_ns)
{
    SimulatedLink::Packet packet = build(type, 0, work_id, 0, 0, 0, {});
    Header header;
    std::memcpy(&header, packet.data(), sizeof(Header));
    header.ack = m_expected_seq;
    std::memcpy(packet.data(), &header, sizeof(Header));
    seal(packet);
    m_out->send(now_ns, packet);
}

ErrorOr<void> SimulatedQp::send(Span<const uint8_t> message, uint64_t now_ns)
{
    if (m_error)
        return Error(Errno::NOTCONN, "QP in error");
    if (message.size() > m_config.max_message_size)
        return Error(Errno::MSGSIZE, "larger than a SEND");
    transmit_sequenced(Type::Send, 0, 0, 0, message.size(), message, now_ns);
    return {};
}

ErrorOr<void> SimulatedQp::rdma_write(
    uint64_t work_id, Span<const uint8_t> local, uint32_t, rpc::RemoteBuffer remote, uint64_t now_ns)
{
    if (m_error)
        return Error(Errno::NOTCONN, "QP in error");
    transmit_sequenced(Type::Write, work_id, remote.address, remote.rkey, local.size(), local, now_ns);
    if (m_config.mode == SimulatedQpMode::Datagram)
        m_events.push_back({ Event::Completed, work_id, true, Errno::IO });
    return {};
}

ErrorOr<void> SimulatedQp::rdma_read(
    uint64_t work_id, rpc::RemoteBuffer remote, Span<uint8_t> local, uint32_t, uint64_t now_ns)
{
    if (m_error)
        return Error(Errno::NOTCONN, "QP in error");
    m_pending_reads[work_id] = local;
    transmit_sequenced(Type::ReadRequest, work_id, remote.address, remote.rkey, local.size(), {}, now_ns);
    return {};
}

void SimulatedQp::go_to_error(Errno reason, uint64_t)
{
    if (m_error)
        return;
    m_error = true;
    m_unacked.clear();
    m_retransmit_at_ns = UINT64_MAX;
    m_events.push_back({ Event::Failed, 0, false, reason });
}

void SimulatedQp::acknowledge(uint32_t ack, uint64_t now_ns)
{
    bool progress = false;
    while (!m_unacked.empty() && m_unacked.front().seq < ack) {
        if (m_unacked.front().type == Type::Write)
            m_events.push_back({ Event::Completed, m_unacked.front().work_id, true, Errno::IO });
        m_unacked.pop_front();
        progress = true;
    }
    if (progress) {
        m_retries = 0;
        m_retransmit_at_ns = m_unacked.empty() ? UINT64_MAX : now_ns + m_config.retransmit_timeout_ns;
    }
}

void SimulatedQp::receive(const SimulatedLink::Packet& packet, uint64_t now_ns)
{
    if (packet.size() < sizeof(Header)) {
        ++m_counters.crc_drops;
        return;
    }
    uint32_t crc;
    std::memcpy(&crc, packet.data(), 4);
    if (crc != crc32(packet.data() + 4, packet.size() - 4)) {
        ++m_counters.crc_drops;
        return;
    }
    if (m_error)
        return;
    Header header;
    std::memcpy(&header, packet.data(), sizeof(Header));
    Span<const uint8_t> data(packet.data() + sizeof(Header), packet.size() - sizeof(Header));
    auto type = static_cast<Type>(header.type);
    if (type == Type::Ack) {
        acknowledge(header.ack, now_ns);
        return;
    }
    if (type == Type::Nak) {
        ++m_counters.remote_access_errors;
        m_events.push_back({ Event::Completed, header.work_id, false, Errno::REMOTEIO });
        go_to_error(Errno::REMOTEIO, now_ns);
        return;
    }
    if (m_config.mode == SimulatedQpMode::Reliable) {
        if (header.seq != m_expected_seq) {
            // Go-back-N: keep only the next packet; re-ACK so the sender
            // learns where we are.
            if (header.seq < m_expected_seq)
                ++m_counters.duplicate_drops;
            else
                ++m_counters.out_of_order_drops;
            transmit_control(Type::Ack, 0, now_ns);
            return;
        }
        ++m_expected_seq;
    }
    process(header, data, now_ns);
    if (m_config.mode == SimulatedQpMode::Reliable && !m_error)
        transmit_control(Type::Ack, 0, now_ns);
}

void SimulatedQp::process(const Header& header, Span<const uint8_t> data, uint64_t now_ns)
{
    switch (static_cast<Type>(header.type)) {
    case Type::Send:
        if (m_sink != nullptr)
            m_sink->transport_received(data, now_ns);
        return;
    case Type::Write: {
        auto target = m_memory.resolve(header.address, header.rkey, data.size(), RegionAccessRemoteWrite);
        if (target.is_error()) {
            ++m_counters.remote_access_errors;
            transmit_control(Type::Nak, header.work_id, now_ns);
            go_to_error(Errno::REMOTEIO, now_ns);
            return;
        }
        if (!data.is_empty())
            std::memcpy(target.value().data(), data.data(), data.size());
        return;
    }
    case Type::ReadRequest: {
        auto source = m_memory.resolve(header.address, header.rkey, header.length, RegionAccessRemoteRead);
        if (source.is_error()) {
            ++m_counters.remote_access_errors;
            transmit_control(Type::Nak, header.work_id, now_ns);
            go_to_error(Errno::REMOTEIO, now_ns);
            return;
        }
        Span<const uint8_t> bytes = source.value();
        transmit_sequenced(Type::ReadResponse, header.work_id, 0, 0, bytes.size(), bytes, now_ns);
        return;
    }
    case Type::ReadResponse: {
        auto pending = m_pending_reads.find(header.work_id);
        if (pending == m_pending_reads.end())
            return; // a duplicate in datagram mode
        Span<uint8_t> local = pending->second;
        m_pending_reads.erase(pending);
        bool ok = data.size() == local.size();
        if (ok && !data.is_empty())
            std::memcpy(local.data(), data.data(), data.size());
        if (m_sink != nullptr) {
            if (ok)
                m_sink->transport_rdma_completed(header.work_id, {}, now_ns);
            else
                m_sink->transport_rdma_completed(header.work_id, Error(Errno::IO), now_ns);
        }
        return;
    }
    case Type::Ack:
    case Type::Nak:
        return;
    }
}

void SimulatedQp::run_timer(uint64_t now_ns)
{
    if (m_error || m_unacked.empty() || now_ns < m_retransmit_at_ns)
        return;
    if (m_retries >= m_config.retry_limit) {
        go_to_error(Errno::TIMEDOUT, now_ns);
        return;
    }
    ++m_retries;
    for (auto& entry : m_unacked) {
        ++m_counters.retransmissions;
        m_out->send(now_ns, entry.packet);
    }
    m_retransmit_at_ns = now_ns + m_config.retransmit_timeout_ns;
}

uint64_t SimulatedQp::next_timer_ns() const { return m_events.empty() ? m_retransmit_at_ns : 0; }

void SimulatedRpcCable::advance(uint64_t now_ns)
{
    for (int i = 0; i < 2; ++i) {
        SimulatedQp& receiver = m_ends[1 - i];
        for (auto& packet : m_links[i].deliver_due(now_ns))
            receiver.receive(packet, now_ns);
    }
    for (auto& end : m_ends) {
        end.run_timer(now_ns);
        while (!end.m_events.empty()) {
            SimulatedQp::Event event = end.m_events.front();
            end.m_events.pop_front();
            if (end.m_sink == nullptr)
                continue;
            if (event.kind == SimulatedQp::Event::Failed)
                end.m_sink->transport_failed(event.error, now_ns);
            else if (event.ok)
                end.m_sink->transport_rdma_completed(event.work_id, {}, now_ns);
            else
                end.m_sink->transport_rdma_completed(event.work_id, Error(event.error), now_ns);
        }
    }
}

uint64_t SimulatedRpcCable::next_event_ns() const
{
    uint64_t next = std::min(m_links[0].next_arrival_ns(), m_links[1].next_arrival_ns());
    for (const auto& end : m_ends)
        next = std::min(next, end.next_timer_ns());
    return next;
}

} // namespace tessera::test
