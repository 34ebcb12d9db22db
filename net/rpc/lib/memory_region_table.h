#pragma once
// The registered memory of one node, for the transports that move RDMA data
// themselves (loopback, the host simulation): what rkeys name, with bounds
// and access checked the way a responder's NIC checks them. The RoCE
// binding uses net/rdma's memory regions instead.
//
// An rkey carries its slot and a generation, so an rkey kept after
// deregister() no longer resolves.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <managers/protocol/lib/page_transfer.h>

namespace tessera::rpc {

enum RegionAccess : uint8_t {
    RegionAccessRemoteRead = 1u << 0,
    RegionAccessRemoteWrite = 1u << 1,
};

class MemoryRegionTable {
public:
    static constexpr size_t kCapacity = 32;

    // The descriptor a peer needs to reach `bytes`. NOSPC when full, INVAL
    // for an empty span or no access bits.
    ErrorOr<protocol::RemoteBuffer> register_region(Span<uint8_t> bytes, uint8_t access);
    // NOENT for an rkey that names no live region.
    ErrorOr<void> deregister(uint32_t rkey);

    // The bytes [address, address + length) of the region `rkey`, if it is
    // live, allows `access` and contains the range: ACCES otherwise (a
    // remote access error), including on overflow.
    ErrorOr<Span<uint8_t>> resolve(uint64_t address, uint32_t rkey, size_t length, uint8_t access) const;

private:
    struct Region {
        uint8_t* base { nullptr };
        size_t length { 0 };
        uint8_t access { 0 };
        uint32_t generation { 0 };
        bool live { false };
    };

    Region m_regions[kCapacity];
};

} // namespace tessera::rpc
