#include <drivers/virtio/lib/virtio_net_config.h>

namespace tessera {

ErrorOr<VirtioNetSettings> virtio_net_settings(Span<const uint8_t> config, uint64_t features, MacAddress fallback_mac)
{
    if (config.size() < virtio_net_config_bytes)
        return Error(Errno::INVAL, "virtio-net: device configuration too short");
    VirtioNetSettings settings { fallback_mac, false, virtio_net_default_mtu };
    if (features & virtio_feature::net_mac) {
        for (size_t i = 0; i < 6; ++i)
            settings.mac.octets[i] = config[i];
        settings.mac_from_device = true;
    }
    if (features & virtio_feature::net_mtu) {
        uint32_t mtu = config[10] | uint32_t { config[11] } << 8; // little-endian in 1.x
        if (mtu < virtio_net_min_mtu)
            return Error(Errno::INVAL, "virtio-net: device MTU below 68");
        settings.mtu = mtu > virtio_net_max_mtu ? virtio_net_max_mtu : mtu;
    }
    return settings;
}

MacAddress virtio_net_fallback_mac(uint8_t bus, uint8_t device, uint8_t function)
{
    // 0x02: locally administered, unicast.
    return MacAddress { { 0x02, 0x54, 0x45, bus, device, function } };
}

size_t virtio_net_receive_buffer_bytes(uint32_t mtu)
{
    return virtio_net_header_bytes + ethernet_header_bytes + vlan_tag_bytes + mtu;
}

ErrorOr<Span<const uint8_t>> virtio_net_received_frame(Span<const uint8_t> buffer, uint32_t written, uint32_t mtu)
{
    if (written > buffer.size())
        return Error(Errno::INVAL, "virtio-net: length past the buffer");
    if (written < virtio_net_header_bytes + ethernet_header_bytes)
        return Error(Errno::INVAL, "virtio-net: frame shorter than its headers");
    size_t frame_bytes = written - virtio_net_header_bytes;
    if (frame_bytes > ethernet_header_bytes + vlan_tag_bytes + mtu)
        return Error(Errno::INVAL, "virtio-net: frame longer than the MTU");
    return buffer.slice(virtio_net_header_bytes, frame_bytes);
}

} // namespace tessera
