#pragma once
// The ARP cache's policy: which IPv4 addresses are resolved, which await a
// reply (and how many packets wait with them), and when each entry expires.
// It owns no packets and no clock: the caller passes `now` (any monotonic
// tick) and keeps the queued packets itself, bounded by the count here. All
// storage is inline, so nothing is allocated after construction. Not
// thread-safe: the caller's lock guards it.

#include <kernel/lib/error_or.h>
#include <kernel/lib/optional.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

struct ArpCachePolicy {
    uint64_t resolved_lifetime; // How long a learned mapping stays valid.
    uint64_t pending_lifetime; // How long to wait for a reply before giving up.
    uint32_t max_pending_per_entry; // Packets that may wait on one resolution.
};

template<size_t Capacity>
class ArpCache {
    static_assert(Capacity > 0);

public:
    explicit ArpCache(ArpCachePolicy policy)
        : m_policy(policy)
    {
    }

    // What queue_for_resolution() tells the caller to do.
    enum class QueueResult {
        SendRequest, // First packet for this address: send an ARP request.
        Queued, // A request is already out; the packet waits with the others.
    };

    // The MAC for `ip` when resolved and not expired. An expired entry is
    // freed here, so a stale mapping is never returned.
    Optional<MacAddress> lookup(Ipv4Address ip, uint64_t now)
    {
        Entry* entry = find(ip, now);
        if (entry == nullptr || entry->state != State::Resolved)
            return {};
        return entry->mac;
    }

    // Accounts for one more packet to `ip` that must wait for resolution.
    // EEXIST when `ip` is already resolved (use lookup()), EAGAIN when the
    // entry's queue is full. A new pending entry may evict the oldest one.
    ErrorOr<QueueResult> queue_for_resolution(Ipv4Address ip, uint64_t now)
    {
        Entry* entry = find(ip, now);
        if (entry != nullptr && entry->state == State::Resolved)
            return Error(Errno::EXIST, "arp cache: address already resolved");
        if (entry != nullptr) {
            if (entry->pending_count >= m_policy.max_pending_per_entry)
                return Error(Errno::AGAIN, "arp cache: resolution queue full");
            ++entry->pending_count;
            return QueueResult::Queued;
        }
        if (m_policy.max_pending_per_entry == 0)
            return Error(Errno::AGAIN, "arp cache: resolution queue full");
        entry = &claim_slot(now);
        *entry = Entry { State::Pending, ip, {}, now, now + m_policy.pending_lifetime, 1 };
        return QueueResult::SendRequest;
    }

    // Records `ip` at `mac` (a reply, or a request addressed to us). Returns
    // how many packets were waiting on it, for the caller to send now.
    uint32_t insert(Ipv4Address ip, MacAddress mac, uint64_t now)
    {
        Entry* entry = find(ip, now);
        if (entry == nullptr)
            entry = &claim_slot(now);
        uint32_t released = entry->state == State::Pending ? entry->pending_count : 0;
        *entry = Entry { State::Resolved, ip, mac, now, now + m_policy.resolved_lifetime, 0 };
        return released;
    }

    // RFC 826's merge step: updates `ip` only if it is already cached (so a
    // packet not meant for us does not fill the table). Returns how many
    // packets were waiting, or an empty Optional when `ip` is not cached.
    Optional<uint32_t> refresh(Ipv4Address ip, MacAddress mac, uint64_t now)
    {
        if (find(ip, now) == nullptr)
            return {};
        return insert(ip, mac, now);
    }

    // Frees every expired entry; returns how many packets were waiting on the
    // pending ones among them, for the caller to drop.
    uint32_t expire(uint64_t now)
    {
        uint32_t dropped = 0;
        for (Entry& entry : m_entries) {
            if (entry.state != State::Free && now >= entry.expires_at) {
                dropped += entry.pending_count;
                entry = Entry {};
            }
        }
        return dropped;
    }

    void remove(Ipv4Address ip)
    {
        for (Entry& entry : m_entries) {
            if (entry.state != State::Free && entry.ip == ip)
                entry = Entry {};
        }
    }

    size_t size() const
    {
        size_t count = 0;
        for (const Entry& entry : m_entries)
            count += entry.state != State::Free;
        return count;
    }
    static constexpr size_t capacity() { return Capacity; }

private:
    enum class State : uint8_t { Free, Pending, Resolved };

    struct Entry {
        State state { State::Free };
        Ipv4Address ip;
        MacAddress mac;
        uint64_t updated_at { 0 };
        uint64_t expires_at { 0 };
        uint32_t pending_count { 0 };
    };

    // The live entry for `ip`, freeing it first if it has expired.
    Entry* find(Ipv4Address ip, uint64_t now)
    {
        for (Entry& entry : m_entries) {
            if (entry.state == State::Free || entry.ip != ip)
                continue;
            if (now >= entry.expires_at) {
                entry = Entry {};
                return nullptr;
            }
            return &entry;
        }
        return nullptr;
    }

    // A free slot, else an expired one, else the least recently updated.
    Entry& claim_slot(uint64_t now)
    {
        Entry* oldest = &m_entries[0];
        for (Entry& entry : m_entries) {
            if (entry.state == State::Free || now >= entry.expires_at)
                return entry;
            if (entry.updated_at < oldest->updated_at)
                oldest = &entry;
        }
        return *oldest;
    }

    ArpCachePolicy m_policy;
    Entry m_entries[Capacity] {};
};

} // namespace tessera
