#include <arch/x86_64/lib/msi_message.h>

namespace tessera::arch {

ErrorOr<MsiMessage> compose_msi_message(uint32_t apic_id, uint8_t vector)
{
    if (apic_id > 0xff)
        return Error(Errno::RANGE, "msi: APIC id does not fit the 8-bit destination field");
    if (vector < msi_min_vector)
        return Error(Errno::INVAL, "msi: vector in the exception range");
    return MsiMessage { MsiAddress::physical(static_cast<uint8_t>(apic_id)).raw(), MsiData::fixed_edge(vector).raw() };
}

} // namespace tessera::arch
