#pragma once
// QEMU's firmware configuration device through its x86 I/O ports: how a node
// reads `opt/tessera/config` (docs/boot-and-configuration.md). [qemu]: docs/specs/
// fw_cfg.rst. Boot-time only: the device has one global selector, so two
// concurrent readers would corrupt each other's data.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/string_view.h>

namespace tessera {

// Whether the device answers with the "QEMU" signature.
bool fw_cfg_present();

// Reads the fw_cfg file `name` into `buffer` and returns its size. Errors:
// ENODEV without the device, ENOENT without the file, EOVERFLOW when it is
// larger than `capacity` (nothing is read then), EINVAL or ENAMETOOLONG for a
// bad name, EINVAL for a malformed directory.
ErrorOr<size_t> fw_cfg_read_file(StringView name, uint8_t* buffer, size_t capacity);

} // namespace tessera
