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

KERNEL_DIRS := arch/$(ARCH) kernel drivers
KERNEL_SOURCES := $(sort $(shell find $(KERNEL_DIRS) -name '*.cpp' -o -name '*.S'))
KERNEL_OBJECTS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_SOURCES))
LINKER_SCRIPT := arch/$(ARCH)/linker.ld

# STYLE.md item 3: freestanding C++20, no exceptions, RTTI, red zone or SIMD
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
	test-host bench format tidy readme layers clean distclean

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
	@echo "  make format | tidy   clang-format / clang-tidy over the tree"
	@echo "  make readme       put the last make check's counts into README.md"
	@echo "  make layers       the #include arrows against layers.txt"
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

$(BUILD)/tessera.sym: $(BUILD)/tessera.elf tools/mksyms.py
	@echo "  SYMS    $@"
	$(Q)nm -n --defined-only -C $< | $(PYTHON) tools/mksyms.py -o $@

$(BUILD)/tessera.iso: $(BUILD)/tessera.elf $(BUILD)/tessera.sym arch/$(ARCH)/boot/grub.cfg
	@echo "  ISO     $@"
	$(Q)rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	$(Q)cp $(BUILD)/tessera.elf $(BUILD)/tessera.sym $(BUILD)/iso/boot/
	$(Q)cp arch/$(ARCH)/boot/grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $@.tmp $(BUILD)/iso >$(BUILD)/grub-mkrescue.log 2>&1 \
		|| { cat $(BUILD)/grub-mkrescue.log; exit 1; }
	$(Q)mv $@.tmp $@

kernel: $(BUILD)/tessera.elf
iso: $(BUILD)/tessera.iso

-include $(KERNEL_OBJECTS:.o=.d)

# --- running ---------------------------------------------------------------
run: deps
	$(Q)$(MAKE) --no-print-directory iso
	$(Q)scripts/run.sh $(BUILD)/tessera.iso

gdb: deps
	$(Q)$(MAKE) --no-print-directory iso
	$(Q)scripts/gdb.sh $(BUILD)/tessera.iso $(BUILD)/tessera.elf

# --- tests and benchmarks -------------------------------------------------
test-host:
	$(Q)cmake -S test/host -B $(BUILD)/host -DCMAKE_BUILD_TYPE=Debug >/dev/null
	$(Q)cmake --build $(BUILD)/host -j$$(nproc)
	$(Q)ctest --test-dir $(BUILD)/host -j$$(nproc) --output-on-failure

check: deps
	$(Q)$(MAKE) --no-print-directory iso
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

tidy: $(AUTOCONF)
	$(Q)scripts/tidy.sh

# The #include arrows against layers.txt (docs/architecture.md).
layers:
	$(Q)$(PYTHON) tools/layering/check_layers.py

clean:
	$(Q)rm -rf $(BUILD)

distclean: clean
	$(Q)rm -f $(CONFIG) $(CONFIG).old
