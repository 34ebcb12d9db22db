#include <kernel/platform/machine.h>

namespace tessera {

namespace {

constinit MachineDescription s_description { false, 0xfee00000, {}, 0, {}, 0, {}, 0 };

} // namespace

void machine_set_description(const MachineDescription& description) { s_description = description; }

const MachineDescription& machine_description() { return s_description; }

} // namespace tessera
