#include <arch/apic.h>
#include <arch/paging.h>
#include <kernel/locking/spinlock.h>

namespace tessera::arch {

namespace {

constexpr size_t max_ioapics = 8;
constexpr size_t max_overrides = 24;

struct IoApic {
    volatile uint32_t* registers;
    uint32_t gsi_base;
    uint32_t entries;
};

struct IoApicState {
    IoApic ioapics[max_ioapics] {};
    size_t count { 0 };
    IrqOverride overrides[max_overrides] {};
    size_t override_count { 0 };
};

SpinlockProtected<IoApicState, LockRank::Interrupts> s_state;

// Indirect register access: select at offset 0, data at 0x10.
uint32_t read(const IoApic& ioapic, uint32_t index)
{
    ioapic.registers[0] = index;
    return ioapic.registers[4];
}
void write(const IoApic& ioapic, uint32_t index, uint32_t value)
{
    ioapic.registers[0] = index;
    ioapic.registers[4] = value;
}

constexpr uint32_t redirection_masked = 1u << 16;

} // namespace

ErrorOr<void> ioapic_initialize(
    const IoApicDescription* ioapics, size_t count, const IrqOverride* overrides, size_t override_count)
{
    if (count > max_ioapics || override_count > max_overrides)
        return Error(Errno::INVAL, "too many IOAPICs or overrides");
    IoApic mapped[max_ioapics] {};
    for (size_t i = 0; i < count; ++i) {
        auto registers = TRY(map_mmio(ioapics[i].address, 0x20));
        mapped[i].registers = static_cast<volatile uint32_t*>(registers);
        mapped[i].gsi_base = ioapics[i].gsi_base;
        mapped[i].entries = ((read(mapped[i], 1) >> 16) & 0xff) + 1;
        // Mask every input until a driver asks for it.
        for (uint32_t entry = 0; entry < mapped[i].entries; ++entry)
            write(mapped[i], 0x10 + 2 * entry, redirection_masked);
    }
    s_state.with([&](IoApicState& state) {
        for (size_t i = 0; i < count; ++i)
            state.ioapics[i] = mapped[i];
        state.count = count;
        for (size_t i = 0; i < override_count; ++i)
            state.overrides[i] = overrides[i];
        state.override_count = override_count;
    });
    return {};
}

namespace {

constexpr uint32_t redirection_active_low = 1u << 13;
constexpr uint32_t redirection_level_triggered = 1u << 15;

// Programs the redirection entry of `gsi`: destination first, then the
// vector with the mask bit clear, so the input never fires half-set.
ErrorOr<void> program(IoApicState& state, uint32_t gsi, uint32_t high, uint32_t low)
{
    for (size_t i = 0; i < state.count; ++i) {
        IoApic& ioapic = state.ioapics[i];
        if (gsi < ioapic.gsi_base || gsi >= ioapic.gsi_base + ioapic.entries)
            continue;
        uint32_t entry = gsi - ioapic.gsi_base;
        write(ioapic, 0x10 + 2 * entry, redirection_masked);
        write(ioapic, 0x10 + 2 * entry + 1, high);
        write(ioapic, 0x10 + 2 * entry, low);
        return {};
    }
    return Error(Errno::NODEV, "no IOAPIC serves this interrupt");
}

} // namespace

ErrorOr<void> ioapic_route_isa_irq(uint8_t irq, uint8_t vector, uint32_t apic_id)
{
    return s_state.with([&](IoApicState& state) -> ErrorOr<void> {
        uint32_t gsi = irq;
        // ISA defaults: edge, active high; an override may say otherwise.
        // [ACPI 6.5]: 5.2.12.5 "Interrupt source override", MPS INTI flags.
        uint32_t flags = 0;
        for (size_t i = 0; i < state.override_count; ++i) {
            if (state.overrides[i].bus_irq == irq) {
                gsi = state.overrides[i].gsi;
                if ((state.overrides[i].flags & 0x3) == 0x3)
                    flags |= redirection_active_low;
                if (((state.overrides[i].flags >> 2) & 0x3) == 0x3)
                    flags |= redirection_level_triggered;
            }
        }
        return program(state, gsi, apic_id << 24, vector | flags);
    });
}

ErrorOr<void> ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool level_triggered, bool active_low)
{
    uint32_t low
        = vector | (level_triggered ? redirection_level_triggered : 0) | (active_low ? redirection_active_low : 0);
    return s_state.with([&](IoApicState& state) { return program(state, gsi, apic_id << 24, low); });
}

ErrorOr<void> ioapic_mask_gsi(uint32_t gsi)
{
    return s_state.with([&](IoApicState& state) { return program(state, gsi, 0, redirection_masked); });
}

} // namespace tessera::arch
