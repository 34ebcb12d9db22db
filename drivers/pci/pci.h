#pragma once
// Finding PCI functions: a brute-force scan of every bus, device and
// function mechanism #1 can address (256 x 32, and functions 1-7 only
// where function 0 says it is multifunction), so bridges need no
// recursion and the scan is bounded by construction.

#include <drivers/pci/pci_device.h>
#include <kernel/lib/error_or.h>

namespace tessera {

constexpr uint16_t pci_vendor_none = 0xffff; // what an empty slot reads

// Calls `visit(device, context)` for every function present, in bus,
// device, function order, until it returns false.
void pci_scan(bool (*visit)(const PciDevice& device, void* context), void* context);

// The first function with this vendor and device id; ENODEV if none.
ErrorOr<PciDevice> pci_find_device(uint16_t vendor_id, uint16_t device_id);

// Reads the identity of the function at `address`; ENODEV if empty.
ErrorOr<PciDevice> pci_read_device(PciAddress address);

} // namespace tessera
