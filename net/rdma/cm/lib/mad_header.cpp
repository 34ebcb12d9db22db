#include <net/inet/lib/byte_order.h>
#include <net/rdma/cm/lib/mad_header.h>

namespace tessera::rdma::cm {

CmDrop decode_mad_header(Span<const uint8_t> mad, MadHeader& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.base_version = mad[0];
    out.mgmt_class = mad[1];
    out.class_version = mad[2];
    out.method = mad[3];
    out.status = load_be16(mad, 4);
    out.class_specific = load_be16(mad, 6);
    out.transaction_id = load_be(mad, 8, 8);
    out.attribute_id = load_be16(mad, 16);
    out.attribute_modifier = load_be32(mad, 20);

    if (out.base_version != mad_base_version)
        return CmDrop::BadBaseVersion;
    if (out.mgmt_class != mad_class_cm)
        return CmDrop::NotCmClass;
    if (out.class_version != mad_class_version_cm)
        return CmDrop::BadClassVersion;
    if (out.method != mad_method_send)
        return CmDrop::BadMethod;
    if (out.attribute_id < static_cast<uint16_t>(CmAttribute::Req)
        || out.attribute_id > static_cast<uint16_t>(CmAttribute::Apr))
        return CmDrop::UnknownAttribute;
    if (out.attribute_id >= static_cast<uint16_t>(CmAttribute::SidrReq))
        return CmDrop::UnsupportedAttribute;
    return CmDrop::None;
}

void encode_mad_header(const MadHeader& header, Span<uint8_t> mad)
{
    VERIFY(mad.size() >= mad_header_size);
    mad[0] = header.base_version;
    mad[1] = header.mgmt_class;
    mad[2] = header.class_version;
    mad[3] = header.method;
    store_be16(mad, 4, header.status);
    store_be16(mad, 6, header.class_specific);
    store_be(mad, 8, 8, header.transaction_id);
    store_be16(mad, 16, header.attribute_id);
    store_be16(mad, 18, 0);
    store_be32(mad, 20, header.attribute_modifier);
}

} // namespace tessera::rdma::cm
