#pragma once
// virtio-net's device configuration and what this driver makes of it.
// [virtio 1.1]: 5.1.4 "Device configuration layout": mac[6] at 0 (valid
// with VIRTIO_NET_F_MAC), status at 6, max_virtqueue_pairs at 8, mtu at 10
// (valid with VIRTIO_NET_F_MTU); 5.1.6 "Device Operation": every buffer
// starts with the 12-byte virtio_net_hdr (1.x always has num_buffers).

#include <drivers/virtio/lib/virtio_features.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

constexpr size_t virtio_net_config_bytes = 12; // through mtu
constexpr size_t virtio_net_header_bytes = 12;
constexpr size_t ethernet_header_bytes = 14;
constexpr size_t vlan_tag_bytes = 4; // a tagged frame is not filtered without CTRL_VLAN
constexpr uint32_t virtio_net_default_mtu = 1500;
constexpr uint32_t virtio_net_min_mtu = 68; // the device "MUST supply at least 68"
// The largest MTU the driver sizes receive buffers for (jumbo frames).
constexpr uint32_t virtio_net_max_mtu = 9216;

// The feature bits the driver implements (and so may accept), and must have.
constexpr uint64_t virtio_net_supported_features
    = virtio_feature::version_1 | virtio_feature::net_mac | virtio_feature::net_mtu;
constexpr uint64_t virtio_net_required_features = virtio_feature::version_1;

struct VirtioNetSettings {
    MacAddress mac;
    bool mac_from_device;
    uint32_t mtu;
};

// `config` is the device configuration read byte by byte (at least
// virtio_net_config_bytes); `features` what was negotiated. Without
// VIRTIO_NET_F_MAC the MAC is `fallback_mac`. An MTU below 68 is EINVAL; one
// above virtio_net_max_mtu is capped (sending less than the device allows
// is always allowed).
ErrorOr<VirtioNetSettings> virtio_net_settings(Span<const uint8_t> config, uint64_t features, MacAddress fallback_mac);

// A locally administered unicast MAC for a device that offers none,
// distinct per PCI bus/device/function.
MacAddress virtio_net_fallback_mac(uint8_t bus, uint8_t device, uint8_t function);

// Bytes a receive buffer needs for `mtu`: header, Ethernet header, one VLAN tag.
size_t virtio_net_receive_buffer_bytes(uint32_t mtu);

// The frame inside a completed receive buffer of which the device says it
// wrote `written` bytes. EINVAL: shorter than the header plus an Ethernet
// header, or longer than `mtu` allows.
ErrorOr<Span<const uint8_t>> virtio_net_received_frame(Span<const uint8_t> buffer, uint32_t written, uint32_t mtu);

} // namespace tessera
