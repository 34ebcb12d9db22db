#pragma once
// The RDMA CM header at the start of a REQ's private data (struct cma_hdr,
// core/cma.c:387; docs/wire/rdma-cm.md 5.2): version, IP version, the active
// side's RDMA CM port and both addresses. IPv4 addresses are 12 zero bytes
// then the address, not ::ffff:-mapped like the REQ's GIDs.

#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>
#include <net/rdma/cm/lib/cm_drop.h>

namespace tessera::rdma::cm {

constexpr size_t cma_header_size = 36;
constexpr size_t req_user_private_data_size = 56; // 92 - 36

struct CmaHeader {
    uint8_t cma_version { 0 };
    uint8_t ip_version { 4 }; // bits 7..4 of byte 1
    uint16_t source_port { 0 }; // the active side's port
    Ipv4Address source {};
    Ipv4Address destination {};
};

// Why a cma_hdr is refused. Linux answers each with REJ 28 (5.4).
enum class CmaHeaderError : uint8_t {
    None = 0,
    TooShort,
    BadVersion, // cma_version != 0
    NotIpv4, // ip_version 6 (not served) or anything else
    BadAddressPadding, // the 12 bytes before an IPv4 address are not zero
    BadLowNibble, // byte 1 bits 3..0 are not zero
};

[[nodiscard]] CmaHeaderError decode_cma_header(Span<const uint8_t> private_data, CmaHeader& out);

// Writes 36 bytes at the start of `private_data` (VERIFYs the room).
void encode_cma_header(const CmaHeader& header, Span<uint8_t> private_data);

} // namespace tessera::rdma::cm
