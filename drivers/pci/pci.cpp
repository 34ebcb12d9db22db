#include <drivers/pci/pci.h>

namespace tessera {

ErrorOr<PciDevice> pci_read_device(PciAddress address)
{
    if (!address.is_valid())
        return Error(Errno::INVAL, "pci: device or function number out of range");
    PciPortConfigSpace config(address);
    uint32_t id = config.read32(pci_register::vendor_id);
    if ((id & 0xffff) == pci_vendor_none)
        return Error(Errno::NODEV, "pci: no function at this address");
    uint32_t class_word = config.read32(pci_register::revision);
    return PciDevice {
        .address = address,
        .vendor_id = static_cast<uint16_t>(id),
        .device_id = static_cast<uint16_t>(id >> 16),
        .class_code = static_cast<uint8_t>(class_word >> 24),
        .subclass = static_cast<uint8_t>(class_word >> 16),
        .prog_if = static_cast<uint8_t>(class_word >> 8),
        .revision = static_cast<uint8_t>(class_word),
        .header_type = static_cast<uint8_t>(config.read8(pci_register::header_type) & pci_header_type_mask),
    };
}

void pci_scan(bool (*visit)(const PciDevice& device, void* context), void* context)
{
    for (unsigned bus = 0; bus <= 0xff; ++bus) {
        for (uint8_t device = 0; device <= pci_max_device; ++device) {
            PciAddress first { static_cast<uint8_t>(bus), device, 0 };
            auto function0 = pci_read_device(first);
            if (function0.is_error())
                continue;
            if (!visit(function0.value(), context))
                return;
            PciPortConfigSpace config(first);
            if ((config.read8(pci_register::header_type) & pci_header_multifunction) == 0)
                continue;
            for (uint8_t function = 1; function <= pci_max_function; ++function) {
                auto found = pci_read_device({ static_cast<uint8_t>(bus), device, function });
                if (!found.is_error() && !visit(found.value(), context))
                    return;
            }
        }
    }
}

ErrorOr<PciDevice> pci_find_device(uint16_t vendor_id, uint16_t device_id)
{
    struct Search {
        uint16_t vendor_id;
        uint16_t device_id;
        bool found;
        PciDevice device;
    } search { vendor_id, device_id, false, {} };
    pci_scan(
        [](const PciDevice& device, void* context) {
            auto& search = *static_cast<Search*>(context);
            if (device.vendor_id != search.vendor_id || device.device_id != search.device_id)
                return true;
            search.found = true;
            search.device = device;
            return false;
        },
        &search);
    if (!search.found)
        return Error(Errno::NODEV, "pci: no such device");
    return search.device;
}

} // namespace tessera
