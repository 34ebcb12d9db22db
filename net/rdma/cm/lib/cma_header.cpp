#include <net/inet/lib/byte_order.h>
#include <net/rdma/cm/lib/cma_header.h>

namespace tessera::rdma::cm {

namespace {

bool zero_padded(Span<const uint8_t> bytes, size_t offset)
{
    for (size_t i = 0; i < 12; ++i) {
        if (bytes[offset + i] != 0)
            return false;
    }
    return true;
}

void store_padded_ipv4(Span<uint8_t> bytes, size_t offset, Ipv4Address ip)
{
    for (size_t i = 0; i < 12; ++i)
        bytes[offset + i] = 0;
    store_ipv4(bytes, offset + 12, ip);
}

} // namespace

CmaHeaderError decode_cma_header(Span<const uint8_t> private_data, CmaHeader& out)
{
    if (private_data.size() < cma_header_size)
        return CmaHeaderError::TooShort;
    out.cma_version = private_data[0];
    out.ip_version = private_data[1] >> 4;
    out.source_port = load_be16(private_data, 2);
    out.source = load_ipv4(private_data, 16);
    out.destination = load_ipv4(private_data, 32);
    if (out.cma_version != 0)
        return CmaHeaderError::BadVersion;
    if (out.ip_version != 4)
        return CmaHeaderError::NotIpv4;
    if (private_data[1] & 0x0F)
        return CmaHeaderError::BadLowNibble;
    if (!zero_padded(private_data, 4) || !zero_padded(private_data, 20))
        return CmaHeaderError::BadAddressPadding;
    return CmaHeaderError::None;
}

void encode_cma_header(const CmaHeader& header, Span<uint8_t> private_data)
{
    VERIFY(private_data.size() >= cma_header_size);
    private_data[0] = header.cma_version;
    private_data[1] = static_cast<uint8_t>(header.ip_version << 4);
    store_be16(private_data, 2, header.source_port);
    store_padded_ipv4(private_data, 4, header.source);
    store_padded_ipv4(private_data, 20, header.destination);
}

} // namespace tessera::rdma::cm
