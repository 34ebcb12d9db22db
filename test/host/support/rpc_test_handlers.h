#pragma once
// Handlers and probes shared by the net/rpc host tests: the ping pair, a
// small page store serving P2M_PAGE_FETCH (RDMA WRITE, then reply) and
// P2M_PAGE_FLUSH (RDMA READ, then store, then reply), a completion that
// records every result, and a failure hook that counts suspicions.

#include <cstring>
#include <functional>
#include <managers/protocol/lib/heartbeat.h>
#include <managers/protocol/lib/message_codec.h>
#include <managers/protocol/lib/page_transfer.h>
#include <managers/protocol/lib/ping.h>
#include <map>
#include <net/rpc/lib/rpc_endpoint.h>
#include <vector>

namespace tessera::test {

using namespace tessera::protocol;
using namespace tessera::rpc;

struct RecordedResult {
    uint64_t request_id;
    int32_t status;
    RpcOrigin origin;
    std::vector<uint8_t> payload;
};

class RecordingCompletion final : public RpcCompletion {
public:
    void rpc_completed(const RpcResult& result) override
    {
        results.push_back({ result.request_id, result.status, result.origin,
            std::vector<uint8_t>(result.payload.begin(), result.payload.end()) });
        if (on_complete)
            on_complete(result);
    }
    size_t count_status(int32_t status) const
    {
        size_t count = 0;
        for (const auto& r : results)
            count += r.status == status ? 1 : 0;
        return count;
    }
    std::vector<RecordedResult> results;
    std::function<void(const RpcResult&)> on_complete;
};

class CountingFailureHook final : public RpcFailureHook {
public:
    void rpc_peer_suspected(uint32_t peer_node, Errno reason, uint64_t now_ns) override
    {
        suspicions.push_back({ peer_node, reason });
        if (on_suspect)
            on_suspect(peer_node, reason, now_ns);
    }
    std::vector<std::pair<uint32_t, Errno>> suspicions;
    std::function<void(uint32_t, Errno, uint64_t)> on_suspect;
};

inline PingRequest make_ping(uint64_t sequence)
{
    PingRequest request {};
    request.sequence = sequence;
    return request;
}

class PingHandler final : public RpcHandler {
public:
    ErrorOr<void> validate(const RpcExchange&) override { return {}; }
    void perform(RpcExchange& exchange) override
    {
        ++performed;
        auto request = MUST(payload_as<PingRequest>(exchange.payload()));
        PingReply reply { static_cast<uint32_t>(request.sequence) };
        exchange.reply(bytes_of(reply));
    }
    uint64_t performed { 0 };
};

class PingPageHandler final : public RpcHandler {
public:
    ErrorOr<void> validate(const RpcExchange&) override { return {}; }
    void perform(RpcExchange& exchange) override
    {
        auto request = MUST(payload_as<PingRequest>(exchange.payload()));
        for (size_t i = 0; i < sizeof(m_reply.bytes); ++i)
            m_reply.bytes[i] = static_cast<uint8_t>(request.sequence + i);
        exchange.reply(bytes_of(m_reply));
    }

private:
    PingPageReply m_reply {};
};

// Pages of one address space (id 1) at [0, pages * 4096); page p's bytes
// start as (p * 31 + i) & 0xFF and carry a version bumped by each flush.
class PageStore {
public:
    explicit PageStore(size_t pages)
        : m_bytes(pages * kPageSize)
        , m_versions(pages, 1)
    {
        for (size_t p = 0; p < pages; ++p)
            fill_pattern(p, static_cast<uint8_t>(p * 31));
    }
    void fill_pattern(size_t page, uint8_t seed)
    {
        for (size_t i = 0; i < kPageSize; ++i)
            m_bytes[page * kPageSize + i] = static_cast<uint8_t>(seed + i);
    }
    ErrorOr<void> check(uint64_t address_space, uint64_t address, uint32_t length) const
    {
        if (address_space != 1)
            return Error(Errno::SRCH, "no such address space");
        if (address + length > m_bytes.size())
            return Error(Errno::FAULT, "address not mapped");
        return {};
    }
    uint8_t* at(uint64_t address) { return m_bytes.data() + address; }
    uint64_t& version(uint64_t address) { return m_versions[address / kPageSize]; }

private:
    std::vector<uint8_t> m_bytes;
    std::vector<uint64_t> m_versions;
};

class PageFetchHandler final : public RpcHandler {
public:
    explicit PageFetchHandler(PageStore& store)
        : m_store(store)
    {
    }
    ErrorOr<void> validate(const RpcExchange& exchange) override
    {
        auto request = TRY(payload_as<PageFetchRequest>(exchange.payload()));
        TRY(protocol::validate(request));
        return m_store.check(request.address_space, request.page_address, request.length);
    }
    void perform(RpcExchange& exchange) override
    {
        auto request = MUST(payload_as<PageFetchRequest>(exchange.payload()));
        Span<const uint8_t> page(m_store.at(request.page_address), request.length);
        if (exchange.rdma_write(page, 0, request.destination).is_error()) {
            exchange.reply_error(Errno::IO);
            return;
        }
        // Posted after the WRITE: RC ordering places it after the data.
        PageFetchReply reply { request.length, 0, m_store.version(request.page_address) };
        exchange.reply(bytes_of(reply));
    }

private:
    PageStore& m_store;
};

class PageFlushHandler final : public RpcHandler {
public:
    explicit PageFlushHandler(PageStore& store)
        : m_store(store)
    {
    }
    ErrorOr<void> validate(const RpcExchange& exchange) override
    {
        auto request = TRY(payload_as<PageFlushRequest>(exchange.payload()));
        TRY(protocol::validate(request));
        return m_store.check(request.address_space, request.page_address, request.length);
    }
    void perform(RpcExchange& exchange) override
    {
        auto request = MUST(payload_as<PageFlushRequest>(exchange.payload()));
        // Read into staging, store only when all of it is here: a failed
        // read leaves the page as it was.
        auto& staging = m_staging[&exchange];
        staging.assign(request.length, 0);
        if (exchange.rdma_read(request.source, { staging.data(), staging.size() }, 0).is_error()) {
            m_staging.erase(&exchange);
            exchange.reply_error(Errno::IO);
        }
    }
    void rdma_completed(RpcExchange& exchange, const ErrorOr<void>& result) override
    {
        auto staging = std::move(m_staging[&exchange]);
        m_staging.erase(&exchange);
        if (result.is_error()) {
            exchange.reply_error(Errno::IO);
            return;
        }
        auto request = MUST(payload_as<PageFlushRequest>(exchange.payload()));
        std::memcpy(m_store.at(request.page_address), staging.data(), staging.size());
        uint64_t version = ++m_store.version(request.page_address);
        PageFlushReply reply { request.length, 0, version };
        exchange.reply(bytes_of(reply));
    }

private:
    PageStore& m_store;
    std::map<RpcExchange*, std::vector<uint8_t>> m_staging;
};

} // namespace tessera::test
