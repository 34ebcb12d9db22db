#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/lib/string.h>
#include <kernel/sched/work_queue.h>
#include <kernel/shell/shell_command.h>
#include <net/inet/net_stack.h>
#include <net/rdma/rdma_device.h>

namespace tessera {

using rdma::cm::CmEventType;

namespace {

constexpr uint16_t roce_udp_port = 4791;

// Written once at the late level, before anything reads it.
kstd::atomic<RdmaDevice*> s_device { nullptr };
const char* s_down_reason = "not started";

void rdma_command()
{
    RdmaDevice* device = s_device.load();
    if (device == nullptr) {
        console_print("rdma: down (%s)\n", s_down_reason);
        return;
    }
    device->print_status();
}

ErrorOr<void> rdma_init()
{
    MUST(shell_register_command("rdma", rdma_command));
    NetInterface* interface = net_primary_interface();
    if (interface == nullptr) {
        s_down_reason = "the IPv4 stack is down";
        infoln("rdma: the IPv4 stack is down; no RDMA device");
        return {};
    }
    auto result = RdmaDevice::bring_up(*interface);
    if (result.is_error())
        s_down_reason = "bring-up failed";
    return result;
}

} // namespace

RdmaDevice* RdmaDevice::the() { return s_device.load(); }

RdmaDevice::RdmaDevice(NetInterface& interface)
    : m_interface(interface)
    , m_sink(interface)
    , m_timer(on_timer, this)
    , m_work(on_work, this)
{
}

ErrorOr<void> RdmaDevice::bring_up(NetInterface& interface)
{
    const Ipv4InterfaceConfig& config = interface.config();
    auto* device = new (kstd::nothrow) RdmaDevice(interface);
    if (device == nullptr)
        return Error(Errno::NOMEM, "RdmaDevice");
    rdma::RdmaNodeConfig node_config;
    node_config.local_ip = config.ip;
    node_config.active_mtu = rdma::path_mtu_for_link_mtu(config.mtu);
    node_config.ca_guid = rdma::ca_guid_from_mac(config.mac.octets);
    // Keys, comm IDs and PSNs must differ between boots and nodes.
    node_config.seed = node_config.ca_guid ^ uptime_ns() ^ 0x5eed;
    auto node = rdma::RdmaNode::try_create(node_config, device->m_sink);
    if (node.is_error()) {
        delete device;
        return node.release_error();
    }
    {
        SpinlockGuard guard(device->m_lock);
        device->m_node = node.release_value();
    }
    TRY(interface.bind_udp(roce_udp_port, on_udp, device));
    s_device.store(device);
    auto const& ip = config.ip.octets;
    infoln("rdma: rxe0 up on %s: %u.%u.%u.%u active MTU %u, GUID %016llx", interface.device().name(), ip[0], ip[1],
        ip[2], ip[3], rdma::path_mtu_bytes(node_config.active_mtu),
        static_cast<unsigned long long>(node_config.ca_guid));
    return {};
}

ErrorOr<void> RdmaDevice::IpSink::transmit(Span<const uint8_t> ip_packet)
{
    return m_interface.send_ipv4_packet(ip_packet);
}

void RdmaDevice::on_udp(void* context, Span<const uint8_t> ip_packet, const UdpReceiveInfo&)
{
    auto& self = *static_cast<RdmaDevice*>(context);
    SpinlockGuard guard(self.m_lock);
    self.m_node->receive(ip_packet, uptime_ns());
    self.schedule_locked();
}

// Interrupt context: only hand over to the worker (the engine may send).
void RdmaDevice::on_timer(void* context) { WorkQueue::system().queue(static_cast<RdmaDevice*>(context)->m_work); }

void RdmaDevice::on_work(void* context) { static_cast<RdmaDevice*>(context)->run_worker(); }

void RdmaDevice::on_completion(rdma::CompletionQueue&, void* context) { static_cast<RdmaDevice*>(context)->bump(); }

void RdmaDevice::poll_and_schedule_locked()
{
    m_node->poll(uptime_ns());
    schedule_locked();
}

void RdmaDevice::schedule_locked()
{
    uint64_t deadline = m_node->next_deadline_ns();
    if (deadline == 0 || m_node->has_events() || deadline <= uptime_ns()) {
        WorkQueue::system().queue(m_work);
        return;
    }
    if (deadline != rdma::no_deadline)
        m_timer.arm_at(deadline);
}

void RdmaDevice::run_worker()
{
    constexpr size_t batch = 8;
    for (;;) {
        rdma::RdmaEvent events[batch];
        size_t count = 0;
        {
            SpinlockGuard guard(m_lock);
            m_node->poll(uptime_ns());
            while (count < batch) {
                auto event = m_node->take_event();
                if (!event.has_value())
                    break;
                events[count++] = event.value();
            }
            if (count < batch)
                schedule_locked();
        }
        // Outside the lock: the user's callbacks may call back in.
        for (size_t i = 0; i < count; ++i)
            handle_event(events[i]);
        if (count < batch)
            return;
    }
}

RdmaConnection* RdmaDevice::allocate_connection()
{
    for (auto& connection : m_connections) {
        if (!connection.m_in_use) {
            connection.m_id = 0;
            connection.m_qp = nullptr;
            connection.m_state.store(RdmaConnection::State::Connecting);
            connection.m_reject_reason = 0;
            connection.m_timed_out = false;
            connection.m_in_use = true;
            connection.m_user_released = false;
            connection.m_passive = false;
            connection.m_callbacks = nullptr;
            connection.m_callback_context = nullptr;
            connection.m_private_data_size = 0;
            return &connection;
        }
    }
    return nullptr;
}

RdmaConnection* RdmaDevice::find_connection(rdma::cm::CmConnectionId id)
{
    for (auto& connection : m_connections) {
        if (connection.m_in_use && connection.m_id == id)
            return &connection;
    }
    return nullptr;
}

void RdmaDevice::release_connection(RdmaConnection& connection)
{
    connection.m_in_use = false;
    connection.m_id = 0;
}

void RdmaDevice::handle_event(const rdma::RdmaEvent& event)
{
    const rdma::cm::CmEvent& cm = event.cm;
    if (cm.type == CmEventType::ConnectRequest) {
        Listener listener;
        {
            SpinlockGuard guard(m_lock);
            for (auto& candidate : m_listeners) {
                if (candidate.callbacks != nullptr && candidate.port == cm.local_port)
                    listener = candidate;
            }
            if (listener.callbacks == nullptr) {
                (void)m_node->reject(cm.id, uptime_ns());
                schedule_locked();
                return;
            }
        }
        RdmaConnectRequest request { .peer = cm.peer,
            .local_port = cm.local_port,
            .peer_port = cm.peer_port,
            .responder_resources = cm.responder_resources,
            .initiator_depth = cm.initiator_depth,
            .private_data = Span<const uint8_t>(cm.private_data, cm.private_data_size) };
        rdma::RdmaAcceptParams accept;
        accept.responder_resources = cm.responder_resources;
        accept.initiator_depth = cm.initiator_depth;
        bool accepted = listener.callbacks->on_connect_request(listener.context, request, accept);
        SpinlockGuard guard(m_lock);
        RdmaConnection* connection = accepted ? allocate_connection() : nullptr;
        if (connection == nullptr) {
            if (accepted)
                warnln("rdma: connection table full; rejecting %u.%u.%u.%u", cm.peer.octets[0], cm.peer.octets[1],
                    cm.peer.octets[2], cm.peer.octets[3]);
            (void)m_node->reject(cm.id, uptime_ns());
            schedule_locked();
            return;
        }
        connection->m_id = cm.id;
        connection->m_passive = true;
        connection->m_callbacks = listener.callbacks;
        connection->m_callback_context = listener.context;
        connection->m_peer = cm.peer;
        connection->m_local_port = cm.local_port;
        connection->m_peer_port = cm.peer_port;
        memcpy(connection->m_private_data, cm.private_data, cm.private_data_size);
        connection->m_private_data_size = cm.private_data_size;
        if (auto result = m_node->accept(cm.id, accept, uptime_ns()); result.is_error()) {
            warnln("rdma: accept failed (errno %d)", static_cast<int>(result.error().code()));
            release_connection(*connection);
        }
        schedule_locked();
        return;
    }

    RdmaConnection* connection = nullptr;
    bool call_established = false;
    bool call_disconnected = false;
    {
        SpinlockGuard guard(m_lock);
        connection = find_connection(cm.id);
        if (connection == nullptr)
            return; // an attempt its user abandoned
        switch (cm.type) {
        case CmEventType::Established:
            connection->m_qp = event.qp;
            connection->m_peer = cm.peer;
            connection->m_local_port = cm.local_port;
            connection->m_peer_port = cm.peer_port;
            if (!connection->m_passive) {
                memcpy(connection->m_private_data, cm.private_data, cm.private_data_size);
                connection->m_private_data_size = cm.private_data_size;
            }
            connection->m_state.store(RdmaConnection::State::Established);
            call_established = connection->m_passive;
            break;
        case CmEventType::Rejected:
        case CmEventType::TimedOut:
            connection->m_reject_reason = cm.reject_reason;
            connection->m_timed_out = cm.type == CmEventType::TimedOut;
            connection->m_state.store(RdmaConnection::State::Failed);
            // Nobody waits for a passive connection that never was.
            if (connection->m_passive)
                release_connection(*connection);
            break;
        case CmEventType::Disconnected:
            connection->m_state.store(RdmaConnection::State::Disconnected);
            if (connection->m_user_released)
                release_connection(*connection);
            else
                call_disconnected = connection->m_passive && connection->m_callbacks->on_disconnected != nullptr;
            break;
        case CmEventType::ConnectRequest:
            break;
        }
    }
    bump();
    if (call_established)
        connection->m_callbacks->on_established(connection->m_callback_context, *connection);
    if (call_disconnected)
        connection->m_callbacks->on_disconnected(connection->m_callback_context, *connection);
}

ErrorOr<rdma::CompletionQueue*> RdmaDevice::create_cq(size_t capacity)
{
    return with_node([&](rdma::RdmaNode& node) -> ErrorOr<rdma::CompletionQueue*> {
        rdma::CompletionQueue* cq = TRY(node.engine().create_cq(capacity));
        cq->set_callback(on_completion, this);
        return cq;
    });
}

ErrorOr<void> RdmaDevice::post_send(rdma::QueuePair& qp, const rdma::SendWr& wr)
{
    return with_node([&](rdma::RdmaNode&) { return qp.post_send(wr); });
}

ErrorOr<void> RdmaDevice::post_recv(rdma::QueuePair& qp, const rdma::RecvWr& wr)
{
    return with_node([&](rdma::RdmaNode&) { return qp.post_recv(wr); });
}

size_t RdmaDevice::poll_cq(rdma::CompletionQueue& cq, Span<rdma::WorkCompletion> entries)
{
    SpinlockGuard guard(m_lock);
    return cq.poll(entries);
}

ErrorOr<size_t> RdmaDevice::wait_cq(rdma::CompletionQueue& cq, Span<rdma::WorkCompletion> entries, uint64_t deadline_ns)
{
    for (;;) {
        // Read before polling: a completion after the poll bumps it.
        uint64_t seen = m_generation.load();
        size_t count = 0;
        {
            SpinlockGuard guard(m_lock);
            count = cq.poll(entries);
            if (count == 0)
                cq.request_notify();
        }
        if (count != 0)
            return count;
        auto waited = m_waiters.wait_until_deadline([&] { return m_generation.load() != seen; }, deadline_ns);
        if (waited.is_error()) {
            SpinlockGuard guard(m_lock);
            count = cq.poll(entries);
            if (count != 0)
                return count;
            return waited.release_error();
        }
    }
}

ErrorOr<void> RdmaDevice::listen(uint16_t port, const RdmaListenCallbacks& callbacks, void* context)
{
    if (callbacks.on_connect_request == nullptr || callbacks.on_established == nullptr)
        return Error(Errno::INVAL, "listen without callbacks");
    SpinlockGuard guard(m_lock);
    Listener* slot = nullptr;
    for (auto& listener : m_listeners) {
        if (listener.callbacks != nullptr && listener.port == port)
            return Error(Errno::ADDRINUSE, "port already listened on");
        if (listener.callbacks == nullptr && slot == nullptr)
            slot = &listener;
    }
    if (slot == nullptr)
        return Error(Errno::NOSPC, "listener table full");
    TRY(m_node->listen(port));
    *slot = { .port = port, .callbacks = &callbacks, .context = context };
    return {};
}

void RdmaDevice::stop_listening(uint16_t port)
{
    SpinlockGuard guard(m_lock);
    m_node->stop_listening(port);
    for (auto& listener : m_listeners) {
        if (listener.callbacks != nullptr && listener.port == port)
            listener = {};
    }
}

ErrorOr<RdmaConnection*> RdmaDevice::connect_retrying(Ipv4Address peer, uint16_t port,
    const rdma::RdmaConnectParams& params, uint64_t attempt_timeout_ns, uint64_t give_up_deadline,
    uint16_t* reject_reason, uint32_t* attempts)
{
    Error last(Errno::TIMEDOUT, "never tried");
    uint32_t made = 0;
    while (uptime_ns() < give_up_deadline) {
        ++made;
        auto result = connect(peer, port, params, attempt_timeout_ns, reject_reason);
        if (!result.is_error()) {
            if (attempts != nullptr)
                *attempts = made;
            return result.value();
        }
        last = result.error();
        if (last.code() != Errno::CONNREFUSED && last.code() != Errno::TIMEDOUT)
            break;
        sleep_ms(1000);
    }
    if (attempts != nullptr)
        *attempts = made;
    return last;
}

ErrorOr<RdmaConnection*> RdmaDevice::connect(Ipv4Address peer, uint16_t port, const rdma::RdmaConnectParams& params,
    uint64_t timeout_ns, uint16_t* reject_reason)
{
    uint64_t deadline = deadline_after_ns(timeout_ns);
    RdmaConnection* connection = nullptr;
    {
        SpinlockGuard guard(m_lock);
        connection = allocate_connection();
        if (connection == nullptr)
            return Error(Errno::NOSPC, "connection table full");
        rdma::RdmaConnectParams copy = params;
        copy.peer = peer;
        copy.port = port;
        auto id = m_node->connect(copy, uptime_ns());
        if (id.is_error()) {
            release_connection(*connection);
            return id.release_error();
        }
        connection->m_id = id.value();
        connection->m_peer = peer;
        connection->m_peer_port = port;
        schedule_locked();
    }
    auto waited = m_waiters.wait_until_deadline(
        [&] { return connection->m_state.load() != RdmaConnection::State::Connecting; }, deadline);
    SpinlockGuard guard(m_lock);
    if (waited.is_error() && connection->m_state.load() == RdmaConnection::State::Connecting) {
        // Abandon the attempt (REJ 4 for our REQ); its later events find no connection.
        (void)m_node->disconnect(connection->m_id, uptime_ns());
        release_connection(*connection);
        schedule_locked();
        return Error(Errno::TIMEDOUT, "RDMA CM connect timed out");
    }
    if (connection->m_state.load() == RdmaConnection::State::Established)
        return connection;
    bool timed_out = connection->m_timed_out;
    uint16_t reason = connection->m_reject_reason;
    release_connection(*connection);
    if (timed_out)
        return Error(Errno::TIMEDOUT, "RDMA CM: no REP");
    if (reject_reason != nullptr)
        *reject_reason = reason;
    infoln("rdma: connect to %u.%u.%u.%u:%u rejected (REJ %u)", peer.octets[0], peer.octets[1], peer.octets[2],
        peer.octets[3], port, reason);
    return Error(Errno::CONNREFUSED, "RDMA CM: rejected");
}

ErrorOr<void> RdmaDevice::disconnect(RdmaConnection& connection, uint64_t timeout_ns)
{
    uint64_t deadline = deadline_after_ns(timeout_ns);
    {
        SpinlockGuard guard(m_lock);
        if (connection.m_state.load() != RdmaConnection::State::Established) {
            release_connection(connection);
            return {};
        }
        auto result = m_node->disconnect(connection.m_id, uptime_ns());
        schedule_locked();
        if (result.is_error()) {
            release_connection(connection);
            return result;
        }
    }
    auto waited = m_waiters.wait_until_deadline(
        [&] { return connection.m_state.load() != RdmaConnection::State::Established; }, deadline);
    SpinlockGuard guard(m_lock);
    if (connection.m_state.load() == RdmaConnection::State::Established) {
        // The CM still retries the DREQ; the Disconnected event frees the slot.
        connection.m_user_released = true;
        return waited;
    }
    release_connection(connection);
    return {};
}

void RdmaDevice::print_status()
{
    rdma::RoceCounters roce;
    rdma::cm::CmCounters cm;
    rdma::RdmaNodeCounters node;
    size_t live = 0;
    uint32_t mtu = 0;
    {
        SpinlockGuard guard(m_lock);
        roce = m_node->engine().counters();
        cm = m_node->cm().counters();
        node = m_node->counters();
        live = m_node->cm().live_connections();
        mtu = m_node->engine().active_mtu();
    }
    auto u = [](uint64_t value) { return static_cast<unsigned long long>(value); };
    auto const& ip = m_interface.config().ip.octets;
    console_print("rxe0: %u.%u.%u.%u on %s, active MTU %u, %zu CM connections\n", ip[0], ip[1], ip[2], ip[3],
        m_interface.device().name(), mtu, live);
    console_print("  roce: sent %llu received %llu sink failures %llu; duplicates %llu out-of-sequence %llu "
                  "retries %llu timeouts %llu retry-exceeded %llu rnr-exceeded %llu\n",
        u(roce.sent_packets), u(roce.received_packets), u(roce.sink_failures), u(roce.duplicate_request),
        u(roce.out_of_sequence_request), u(roce.retries), u(roce.retransmit_timeouts), u(roce.retry_exceeded),
        u(roce.rnr_retry_exceeded));
    console_print("  roce naks: sent seq %llu rnr %llu inv %llu access %llu op %llu; received seq %llu rnr %llu\n",
        u(roce.nak_sequence_sent), u(roce.rnr_nak_sent), u(roce.nak_invalid_request_sent), u(roce.nak_access_sent),
        u(roce.nak_operational_sent), u(roce.nak_sequence_received), u(roce.rnr_nak_received));
    console_print("  roce dropped: %llu", u(roce.total_drops()));
    for (size_t i = 1; i < rdma::drop_reason_count; ++i) {
        if (roce.dropped[i] != 0)
            console_print(" %s=%llu", rdma::drop_reason_name(static_cast<rdma::DropReason>(i)), u(roce.dropped[i]));
    }
    static const char* const attributes[] = { "req", "mra", "rej", "rep", "rtu", "dreq", "drep" };
    console_print("\n  cm rx:");
    for (size_t i = 0; i < 7; ++i)
        console_print(" %s=%llu", attributes[i], u(cm.rx[i]));
    console_print("; tx:");
    for (size_t i = 0; i < 7; ++i)
        console_print(" %s=%llu", attributes[i], u(cm.tx[i]));
    console_print("\n  cm: retransmits %llu duplicates %llu rejects sent %llu bad cma headers %llu events lost %llu\n",
        u(cm.retransmits), u(cm.duplicates), u(cm.rejects_sent), u(cm.bad_cma_headers), u(cm.events_lost));
    console_print("  cm dropped:");
    for (size_t i = 0; i < rdma::cm::cm_drop_count; ++i) {
        if (cm.drops[i] != 0)
            console_print(" %s=%llu", rdma::cm::cm_drop_name(static_cast<rdma::cm::CmDrop>(i)), u(cm.drops[i]));
    }
    console_print(
        "\n  qp1: mads rx %llu tx %llu; bad length %llu receive errors %llu no send slot %llu send errors %llu\n",
        u(node.mads_received), u(node.mads_sent), u(node.mad_bad_length), u(node.mad_receive_errors),
        u(node.mad_send_no_slot), u(node.mad_send_errors));
}

INIT_FUNCTION(late, rdma_device, rdma_init, Optional);

} // namespace tessera
