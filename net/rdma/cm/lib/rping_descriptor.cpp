#include <net/inet/lib/byte_order.h>
#include <net/rdma/cm/lib/rping_descriptor.h>

namespace tessera::rdma::cm {

ErrorOr<RpingDescriptor> decode_rping_descriptor(Span<const uint8_t> bytes)
{
    if (bytes.size() != rping_descriptor_size)
        return Error(Errno::INVAL, "rping descriptor is exactly 16 bytes");
    return RpingDescriptor {
        .address = load_be(bytes, 0, 8), .rkey = load_be32(bytes, 8), .size = load_be32(bytes, 12)
    };
}

void encode_rping_descriptor(const RpingDescriptor& descriptor, Span<uint8_t> out)
{
    VERIFY(out.size() >= rping_descriptor_size);
    store_be(out, 0, 8, descriptor.address);
    store_be32(out, 8, descriptor.rkey);
    store_be32(out, 12, descriptor.size);
}

void fill_rping_pattern(uint64_t n, Span<uint8_t> out)
{
    VERIFY(!out.is_empty());
    // rping's sprintf "rdma-ping-%d: ", truncated to the buffer like snprintf.
    char prefix[40];
    size_t length = 0;
    for (const char* p = "rdma-ping-"; *p; ++p)
        prefix[length++] = *p;
    char digits[20];
    size_t count = 0;
    uint64_t value = n;
    do {
        digits[count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        prefix[length++] = digits[--count];
    prefix[length++] = ':';
    prefix[length++] = ' ';

    size_t last = out.size() - 1;
    size_t i = 0;
    for (; i < last && i < length; ++i)
        out[i] = static_cast<uint8_t>(prefix[i]);
    uint8_t c = static_cast<uint8_t>(65 + n % 58);
    for (; i < last; ++i) {
        out[i] = c;
        c = c == 122 ? 65 : static_cast<uint8_t>(c + 1);
    }
    out[last] = 0;
}

} // namespace tessera::rdma::cm
