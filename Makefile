# Tessera top-level Makefile. `make help` lists the targets.
#
# Everything is built out of tree under build/. Kernel objects track their
# header dependencies (-MMD -MP), and every rule writes only its own outputs,
# so `make -jN` is safe.

.DEFAULT_GOAL := all
SHELL := /bin/bash
ARCH := x86_64
BUILD := build
CONFIG := .config
AUTOCONF := $(BUILD)/include/generated/autoconf.h
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

CXX := g++
PYTHON := python3

KERNEL_DIRS := arch/$(ARCH) kernel drivers net managers
KERNEL_SOURCES := $(sort $(shell find $(KERNEL_DIRS) -name '*.cpp' -o -name '*.S'))
KERNEL_OBJECTS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_SOURCES))
LINKER_SCRIPT := arch/$(ARCH)/linker.ld

# docs/style.md: freestanding C++20, no exceptions, RTTI, red zone or SIMD
# registers; -mcmodel=kernel for the top 2 GiB; frame pointers for backtraces.
KERNEL_CXXFLAGS := -std=c++20 -ffreestanding -fno-exceptions -fno-rtti -nostdlib \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mcmodel=kernel \
	-fno-threadsafe-statics -fno-pic -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-O2 -g -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-DTESSERA_KERNEL=1 -I. -Iarch/$(ARCH)/include -I$(BUILD)/include -include $(AUTOCONF)
KERNEL_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
	-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -T $(LINKER_SCRIPT)

.PHONY: all help deps defconfig olddefconfig menuconfig kernel iso run gdb check \
	test-host bench format tidy readme layers compile_commands kernel-clang kernel-clang-control ubsan ubsan-control linux-peer \
	fuzz-roce fuzz-roce-planted clean distclean

all: iso

help:
	@echo "Tessera targets:"
	@echo "  make run          install what is missing, build, boot one node in QEMU (Ctrl-A X quits)"
	@echo "  make check        install what is missing, build, run every test tier"
	@echo "  make bench        boot-time benchmarks against a Debian Linux guest"
	@echo "  make gdb          boot halted under QEMU's gdb stub and attach gdb with symbols"
	@echo "  make              build build/tessera.elf and build/tessera.iso"
	@echo "  make defconfig | olddefconfig | menuconfig   build-time configuration (.config)"
	@echo "  make test-host    host GoogleTest suites only (ASan + UBSan)"
	@echo "  make fuzz-roce    libFuzzer on the RoCE receive path (FUZZ_SECONDS=20); fuzz-roce-planted: must find a planted bug"
	@echo "  make format | tidy   clang-format / clang-tidy over the tree"
	@echo "  make readme       put the last make check's counts into README.md"
	@echo "  make layers       the #include arrows against layers.txt"
	@echo "  make kernel-clang  every kernel source under clang -Wthread-safety -Werror (build/clang/)"
	@echo "  make ubsan        the UBSan kernel, build/ubsan/tessera.iso (ubsan-control: with a planted fault)"
	@echo "  make compile_commands   build/compile_commands.json from the kernel's flags"
	@echo "  make clean | distclean"
	@echo "Variables: V=1 (show commands), SMP=2 MEM=256M FIRMWARE=bios|uefi CONFIG_TEXT='tessera.node=3 ...' (run)"

deps:
	$(Q)scripts/install-deps.sh --if-missing

# --- configuration ---------------------------------------------------------
defconfig:
	$(Q)kconfig-conf --defconfig=configs/defconfig Kconfig >/dev/null
	@echo "  CONF    $(CONFIG) from configs/defconfig"

olddefconfig:
	$(Q)kconfig-conf --olddefconfig Kconfig >/dev/null

menuconfig:
	$(Q)kconfig-mconf Kconfig

$(CONFIG):
	$(Q)kconfig-conf --defconfig=configs/defconfig Kconfig >/dev/null
	@echo "  CONF    $(CONFIG) from configs/defconfig (no .config yet)"

# Kconfig changed since .config was written: bring .config up to date.
$(BUILD)/.config.stamp: $(CONFIG) Kconfig
	$(Q)mkdir -p $(@D)
	$(Q)kconfig-conf --olddefconfig Kconfig >/dev/null
	$(Q)touch $@

$(AUTOCONF): $(BUILD)/.config.stamp scripts/gen-autoconf.sh
	$(Q)mkdir -p $(@D)
	$(Q)scripts/gen-autoconf.sh $(CONFIG) $@
	@echo "  GEN     $@"

# --- kernel ----------------------------------------------------------------
$(BUILD)/obj/%.cpp.o: %.cpp $(AUTOCONF)
	$(Q)mkdir -p $(@D)
	@echo "  CXX     $<"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.S.o: %.S $(AUTOCONF)
	$(Q)mkdir -p $(@D)
	@echo "  AS      $<"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tessera.elf: $(KERNEL_OBJECTS) $(LINKER_SCRIPT)
	@echo "  LD      $@"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJECTS) -lgcc

# The symbol table GRUB loads beside a kernel (for backtraces), and the ISO.
# Every image (the kernel, the UBSan kernel, its control) is made the same way:
# $(call make_iso,STAGING_DIR): the first two prerequisites are the ELF and
# its symbol table. The ISO's copy has no DWARF (gdb reads build/tessera.elf):
# at 7 MiB with it, GRUB under OVMF in 64 MiB failed to read the CD
# ("failure reading sector", then "you need to load the kernel first").
define make_iso
	@echo "  ISO     $@"
	$(Q)rm -rf $(1) && mkdir -p $(1)/boot/grub
	$(Q)objcopy --strip-debug $(word 1,$^) $(1)/boot/tessera.elf
	$(Q)cp $(word 2,$^) $(1)/boot/tessera.sym
	$(Q)cp arch/$(ARCH)/boot/grub.cfg $(1)/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $@.tmp $(1) >$(1).log 2>&1 || { cat $(1).log; exit 1; }
	$(Q)mv $@.tmp $@
endef

%.sym: %.elf tools/mksyms.py
	@echo "  SYMS    $@"
	$(Q)nm -n --defined-only -C $< | $(PYTHON) tools/mksyms.py -o $@

$(BUILD)/tessera.iso: $(BUILD)/tessera.elf $(BUILD)/tessera.sym arch/$(ARCH)/boot/grub.cfg
	$(call make_iso,$(BUILD)/iso)

kernel: $(BUILD)/tessera.elf
iso: $(BUILD)/tessera.iso

# --- compile_commands.json for clang tools (clang-tidy -p build) ------------
# One entry per kernel source, from KERNEL_CXXFLAGS: the flags are defined once.
# Always rewritten (it is cheap), so a new source is never missing from it.
compile_commands: $(AUTOCONF)
	$(Q)mkdir -p $(BUILD)
	$(Q)$(PYTHON) tools/compile_commands.py $(BUILD)/compile_commands.json $(BUILD)/obj $(CXX) \
		$(KERNEL_CXXFLAGS) -- $(KERNEL_SOURCES)
	@echo "  GEN     $(BUILD)/compile_commands.json"

# --- clang build: every kernel source with -Wthread-safety -Werror ---------
# The kernel's flags, minus what clang does not take, for a freestanding
# ELF target. Only compiling is checked; GCC's objects are what boots.
CLANG_CXX := clang++
CLANG_BUILD := $(BUILD)/clang
# The target is GCC's own (x86_64-linux-gnu, with -ffreestanding): the
# kernel takes <atomic>, <type_traits> ... from the host's libstdc++, which is
# configured for that triple and does not parse under a none-elf target.
CLANG_CXXFLAGS := $(KERNEL_CXXFLAGS) --target=x86_64-linux-gnu -Wthread-safety -Wthread-safety-beta -Werror
CLANG_OBJECTS := $(patsubst %,$(CLANG_BUILD)/obj/%.o,$(KERNEL_SOURCES))

$(CLANG_BUILD)/obj/%.cpp.o: %.cpp $(AUTOCONF)
	$(Q)mkdir -p $(@D)
	@echo "  CLANG   $<"
	$(Q)$(CLANG_CXX) $(CLANG_CXXFLAGS) -MMD -MP -c $< -o $@

# The interrupt stubs nest .rept/.macro deeper than clang's assembler allows;
# the preprocessing is clang's, the assembling GNU as's.
$(CLANG_BUILD)/obj/%.S.o: %.S $(AUTOCONF)
	$(Q)mkdir -p $(@D)
	@echo "  CLANG   $<"
	$(Q)$(CLANG_CXX) $(CLANG_CXXFLAGS) -fno-integrated-as -MMD -MP -c $< -o $@

kernel-clang: $(CLANG_OBJECTS)
	@echo "  CLANG   $(words $(CLANG_OBJECTS)) kernel sources compiled, no warnings"

-include $(CLANG_OBJECTS:.o=.d)

# The analysis must bite: correct lock use compiles, three planted unguarded
# uses fail with one diagnostic each (test/thread_safety/).
THREAD_SAFETY_CONTROL := test/thread_safety/planted_unguarded.cpp
kernel-clang-control: $(AUTOCONF)
	$(Q)mkdir -p $(CLANG_BUILD)
	$(Q)$(CLANG_CXX) $(CLANG_CXXFLAGS) -DPLANTED=0 -fsyntax-only $(THREAD_SAFETY_CONTROL)
	$(Q)if $(CLANG_CXX) $(CLANG_CXXFLAGS) -DPLANTED=1 -fsyntax-only $(THREAD_SAFETY_CONTROL) \
		2>$(CLANG_BUILD)/control.log; then echo "planted thread-safety violations compiled"; exit 1; fi
	$(Q)found=$$(grep -c 'error: .*\[-Werror,-Wthread-safety' $(CLANG_BUILD)/control.log); \
		if [ "$$found" != 3 ]; then cat $(CLANG_BUILD)/control.log; \
		echo "expected 3 thread-safety errors, got $$found"; exit 1; fi
	@echo "  CLANG   planted thread-safety violations rejected (3 of 3)"

# --- UBSan kernel: build/ubsan/tessera.iso -----------------------------------
# The same kernel compiled with the undefined-behaviour checks that work
# freestanding; kernel/runtime/ubsan.cpp reports a finding and panics. Its
# selftest boot is one of the `make check` boots.
UBSAN_BUILD := $(BUILD)/ubsan
UBSAN_FLAGS := -fsanitize=alignment,bool,bounds,enum,integer-divide-by-zero,nonnull-attribute,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,pointer-overflow \
	-fno-sanitize-recover=all -DTESSERA_UBSAN=1
UBSAN_OBJECTS := $(patsubst %,$(UBSAN_BUILD)/obj/%.o,$(KERNEL_SOURCES))

$(UBSAN_BUILD)/obj/%.cpp.o: %.cpp $(AUTOCONF)
	$(Q)mkdir -p $(@D)
	@echo "  UBSAN   $<"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) $(UBSAN_FLAGS) -MMD -MP -c $< -o $@

# The runtime itself is not instrumented: a check failing in it would recurse.
$(UBSAN_BUILD)/obj/kernel/runtime/ubsan.cpp.o: UBSAN_FLAGS :=

$(UBSAN_BUILD)/obj/%.S.o: %.S $(AUTOCONF)
	$(Q)mkdir -p $(@D)
	@echo "  AS      $<"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) -MMD -MP -c $< -o $@

$(UBSAN_BUILD)/tessera.elf: $(UBSAN_OBJECTS) $(LINKER_SCRIPT)
	@echo "  LD      $@"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) $(KERNEL_LDFLAGS) -o $@ $(UBSAN_OBJECTS) -lgcc

$(UBSAN_BUILD)/tessera.iso: $(UBSAN_BUILD)/tessera.elf $(UBSAN_BUILD)/tessera.sym arch/$(ARCH)/boot/grub.cfg
	$(call make_iso,$(UBSAN_BUILD)/iso)

ubsan: $(UBSAN_BUILD)/tessera.iso

# Negative control: the same objects plus a planted signed overflow
# (test/ubsan/); make check requires the runtime to catch it.
UBSAN_CONTROL_OBJECT := $(UBSAN_BUILD)/obj/test/ubsan/planted_overflow.cpp.o
$(UBSAN_BUILD)/control.elf: $(UBSAN_OBJECTS) $(UBSAN_CONTROL_OBJECT) $(LINKER_SCRIPT)
	@echo "  LD      $@"
	$(Q)$(CXX) $(KERNEL_CXXFLAGS) $(KERNEL_LDFLAGS) -o $@ $(UBSAN_OBJECTS) $(UBSAN_CONTROL_OBJECT) -lgcc

$(UBSAN_BUILD)/control.iso: $(UBSAN_BUILD)/control.elf $(UBSAN_BUILD)/control.sym arch/$(ARCH)/boot/grub.cfg
	$(call make_iso,$(UBSAN_BUILD)/control-iso)

ubsan-control: $(UBSAN_BUILD)/control.iso
-include $(UBSAN_CONTROL_OBJECT:.o=.d)

-include $(UBSAN_OBJECTS:.o=.d)

-include $(KERNEL_OBJECTS:.o=.d)

# --- running ---------------------------------------------------------------
run: deps
	$(Q)$(MAKE) --no-print-directory iso
	$(Q)scripts/run.sh $(BUILD)/tessera.iso

gdb: deps
	$(Q)$(MAKE) --no-print-directory iso
	$(Q)scripts/gdb.sh $(BUILD)/tessera.iso $(BUILD)/tessera.elf

# --- tests and benchmarks -------------------------------------------------
# Defined once in scripts/test-host.sh, which make check runs too.
# The Linux peer guest (tools/linux-peer/README.md); incremental.
linux-peer:
	$(Q)python3 tools/linux-peer/build.py

test-host:
	$(Q)scripts/test-host.sh

FUZZ_SECONDS ?= 20
fuzz-roce:
	$(Q)scripts/fuzz-roce.sh $(FUZZ_SECONDS)

fuzz-roce-planted:
	$(Q)scripts/fuzz-roce.sh --planted 60

check: deps
	$(Q)$(MAKE) --no-print-directory iso ubsan ubsan-control linux-peer
	$(Q)scripts/check.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory iso
	$(Q)scripts/bench.sh $(BUILD)/tessera.iso

# --- house style -----------------------------------------------------------
# Tracked and new (untracked, not ignored) files; $(wildcard) drops deleted ones.
SOURCE_FILES = $(sort $(wildcard $(shell git ls-files --cached --others --exclude-standard '*.cpp' '*.h')))
format:
	$(Q)clang-format -i $(SOURCE_FILES)

# The README's test counts, from the last `make check` (build/check/summary.json).
readme:
	$(Q)$(PYTHON) tools/update-readme-counts.py

tidy: compile_commands
	$(Q)scripts/tidy.sh

# The #include arrows against layers.txt (docs/architecture.md).
layers:
	$(Q)$(PYTHON) tools/layering/check_layers.py

clean:
	$(Q)rm -rf $(BUILD)

distclean: clean
	$(Q)rm -f $(CONFIG) $(CONFIG).old
