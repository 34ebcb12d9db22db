#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/lib/assert.h>

namespace tessera::arch {

namespace {
// constinit: used before global constructors run.
constinit PerCpu s_cpus[max_cpus] {};
constinit size_t s_cpu_count = 1;
} // namespace

uint32_t current_cpu_index()
{
    bool enabled = save_and_disable_interrupts();
    uint32_t index = this_cpu().local.index;
    restore_interrupts(enabled);
    return index;
}

PerCpu& cpu_at(size_t index)
{
    VERIFY(index < max_cpus);
    return s_cpus[index];
}

size_t cpu_count() { return s_cpu_count; }
void set_cpu_count(size_t count)
{
    VERIFY(count >= 1 && count <= max_cpus);
    s_cpu_count = count;
}

void install_per_cpu(size_t index, uint32_t apic_id)
{
    VERIFY(index < max_cpus);
    PerCpu& cpu = s_cpus[index];
    cpu.self = &cpu;
    cpu.local.index = static_cast<uint32_t>(index);
    cpu.apic_id = apic_id;
    write_msr(msr::gs_base, reinterpret_cast<uint64_t>(&cpu));
    write_msr(msr::kernel_gs_base, 0);
}

} // namespace tessera::arch
