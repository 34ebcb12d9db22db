"""Tests of the layering check: planted bad includes in a throwaway git tree
must fail, naming the file, the line and the rule; the real tree must pass."""
import contextlib
import io
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import check_layers

ROOT = Path(__file__).resolve().parents[3]
REAL_PARTS = (ROOT / "layers.txt").read_text()

# A small tree that keeps every rule of the real parts file.
CLEAN_TREE = {
    "kernel/lib/kstd.h": "#pragma once\n#include <cstdint>\n#include <type_traits>\n",
    "kernel/lib/string.h": "#pragma once\n#include <kernel/lib/kstd.h>\n#include <string.h>\n",
    "kernel/console/console.h": "#pragma once\n#include <kernel/lib/kstd.h>\n",
    "kernel/console/console.cpp": "#include <kernel/console/console.h>\n#include <drivers/serial/serial.h>\n",
    "kernel/memory/lib/region.h": "#pragma once\n#include <kernel/lib/kstd.h>\n",
    "arch/x86_64/include/arch/cpu.h": "#pragma once\n#include <kernel/lib/kstd.h>\n",
    "arch/x86_64/idt.cpp": "#include <arch/cpu.h>\n#include <kernel/console/console.h>\n"
                           "#include <drivers/serial/serial.h>\n",
    "arch/x86_64/boot/boot.S": "#include <arch/cpu.h>\n",
    "arch/x86_64/lib/multiboot2.h": "#pragma once\n#include <kernel/memory/lib/region.h>\n",
    "drivers/serial/serial.h": "#pragma once\n#include <arch/cpu.h>\n#include <kernel/console/console.h>\n",
    "managers/protocol/messages.h": "#pragma once\n#include <kernel/lib/kstd.h>\n",
    "managers/memory/pages.cpp": "#include <managers/protocol/messages.h>\n#include <kernel/console/console.h>\n",
    "test/host/x_test.cpp": "#include <gtest/gtest.h>\n#include <vector>\n#include <managers/memory/pages.cpp>\n",
}
# The exceptions the clean tree needs, in place of the real tree's list.
EXCEPTIONS = ("exception kernel/console/console.cpp -> drivers\n"
              "exception arch/x86_64/idt.cpp -> drivers\n")


def real_rules():
    # Without the lines that name files of the real tree.
    lines = [line for line in REAL_PARTS.splitlines() if not line.startswith(("exception ", "portable-file "))]
    return "\n".join(lines) + "\n"


class FakeTree:
    def __init__(self, files, parts):
        self.dir = Path(tempfile.mkdtemp(prefix="layers-test-"))
        subprocess.run(["git", "init", "-q", str(self.dir)], check=True)
        for path, text in files.items():
            target = self.dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        (self.dir / "layers.txt").write_text(parts)

    def check(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = check_layers.main(["--root", str(self.dir)])
        return status, out.getvalue()

    def remove(self):
        shutil.rmtree(self.dir)


class LayeringTest(unittest.TestCase):
    def run_tree(self, extra_files=None, parts=None, drop=()):
        files = dict(CLEAN_TREE)
        files.update(extra_files or {})
        for path in drop:
            del files[path]
        tree = FakeTree(files, parts if parts is not None else real_rules() + EXCEPTIONS)
        try:
            return tree.check()
        finally:
            tree.remove()

    def assert_rejected(self, files, where, rule, **kwargs):
        status, out = self.run_tree(files, **kwargs)
        self.assertEqual(status, 1, out)
        self.assertIn(where, out)
        self.assertRegex(out, rule)

    def test_clean_tree_passes(self):
        status, out = self.run_tree()
        self.assertEqual(status, 0, out)
        self.assertIn("files clean", out)

    def test_kernel_including_a_driver_fails_with_file_line_and_rule(self):
        self.assert_rejected({"kernel/sched/thread.cpp": "// x\n#include <drivers/serial/serial.h>\n"},
                             "kernel/sched/thread.cpp:2: #include <drivers/serial/serial.h>",
                             r"kernel -> drivers is denied \(layers.txt line \d+\)")

    def test_kernel_including_net_or_a_monitor_fails(self):
        self.assert_rejected({"kernel/a.cpp": "#include <net/ipv4.h>\n"}, "kernel/a.cpp:1", r"kernel -> net is denied")
        self.assert_rejected({"kernel/b.cpp": "#include <managers/memory/pages.h>\n"}, "kernel/b.cpp:1",
                             r"kernel -> managers/memory is denied")

    def test_arch_including_a_driver_fails(self):
        self.assert_rejected({"arch/x86_64/smp.cpp": "#include <drivers/serial/serial.h>\n"},
                             "arch/x86_64/smp.cpp:1", r"arch/x86_64 -> drivers is denied")

    def test_kernel_lib_including_the_kernel_or_arch_fails(self):
        self.assert_rejected({"kernel/lib/bad.h": "#include <kernel/console/console.h>\n"},
                             "kernel/lib/bad.h:1", r"kernel/lib -> kernel is not an allowed arrow")
        # <arch/...> resolves through arch/x86_64/include.
        self.assert_rejected({"kernel/lib/bad.h": "#include <arch/cpu.h>\n"},
                             "kernel/lib/bad.h:1", r"kernel/lib -> arch/x86_64 is not an allowed arrow")

    def test_kernel_lib_including_a_hosted_header_fails(self):
        self.assert_rejected({"kernel/lib/bad.h": "#pragma once\n\n#include <cstring>\n"},
                             "kernel/lib/bad.h:3: #include <cstring>", r"only the compiler's freestanding headers")

    def test_kernel_including_any_outside_header_fails(self):
        self.assert_rejected({"kernel/a.cpp": "#include <atomic>\n"}, "kernel/a.cpp:1",
                             r"part kernel may include no header outside the tree")

    def test_quoted_and_spaced_includes_are_seen(self):
        self.assert_rejected({"kernel/a.cpp": '#  include "../drivers/serial/serial.h"\n'}, "kernel/a.cpp:1",
                             r"kernel -> drivers is denied")

    def test_monitors_never_include_each_other(self):
        self.assert_rejected({"managers/processor/a.cpp": "#include <managers/memory/pages.cpp>\n"},
                             "managers/processor/a.cpp:1", r"managers/processor -> managers/memory is denied")

    def test_protocol_includes_only_kernel_lib(self):
        self.assert_rejected({"managers/protocol/bad.h": "#include <kernel/console/console.h>\n"},
                             "managers/protocol/bad.h:1", r"managers/protocol -> kernel is not an allowed arrow")

    def test_portable_folder_including_non_portable_code_fails(self):
        self.assert_rejected({"kernel/memory/lib/bad.cpp": "#include <kernel/console/console.h>\n"},
                             "kernel/memory/lib/bad.cpp:1", r"is portable .* not kernel/console/console.h")
        self.assert_rejected({"drivers/acpi/lib/bad.cpp": "#include <arch/cpu.h>\n"},
                             "drivers/acpi/lib/bad.cpp:1", r"is portable")

    def test_portable_file_may_be_included_by_portable_code_and_is_held_to_the_rule(self):
        files = {"arch/x86_64/include/arch/msi.h": "#pragma once\n#include <arch/x86_64/lib/msi_message.h>\n",
                 "arch/x86_64/lib/msi_message.h": "#pragma once\n#include <kernel/lib/kstd.h>\n",
                 "drivers/pci/lib/msi.h": "#pragma once\n#include <arch/msi.h>\n"}
        without = real_rules() + EXCEPTIONS
        with_file = without + "portable-file arch/x86_64/include/arch/msi.h\n"
        self.assert_rejected(files, "drivers/pci/lib/msi.h:2", r"is portable .* not arch/x86_64/include/arch/msi.h",
                             parts=without)
        status, out = self.run_tree(files, parts=with_file)
        self.assertEqual(status, 0, out)
        files["arch/x86_64/include/arch/msi.h"] += "#include <arch/cpu.h>\n"
        self.assert_rejected(files, "arch/x86_64/include/arch/msi.h:3", r"is portable", parts=with_file)

    def test_portable_file_that_does_not_exist_is_stale(self):
        status, out = self.run_tree(parts=real_rules() + EXCEPTIONS + "portable-file kernel/gone.h\n")
        self.assertEqual(status, 1, out)
        self.assertIn("portable-file `kernel/gone.h` does not exist", out)

    def test_file_in_no_part_fails(self):
        self.assert_rejected({"misc/a.cpp": "int x;\n"}, "misc/a.cpp:1", r"belongs to no part")

    def test_untracked_files_are_checked_but_ignored_ones_are_not(self):
        status, out = self.run_tree({".gitignore": "build/\n", "build/x.cpp": "#include <drivers/a.h>\n"})
        self.assertEqual(status, 0, out)

    def test_exception_excuses_only_its_file(self):
        status, out = self.run_tree(drop=["arch/x86_64/idt.cpp"], parts=real_rules() + EXCEPTIONS)
        self.assertEqual(status, 1, out)
        self.assertIn("exception `arch/x86_64/idt.cpp -> drivers` matches no include any more", out)

    def test_exception_that_excuses_no_deny_rule_is_malformed(self):
        status, out = self.run_tree(parts=real_rules() + EXCEPTIONS + "exception drivers/x.cpp -> kernel\n")
        self.assertEqual(status, 2, out)
        self.assertIn("excuses no deny rule", out)

    def test_without_the_exceptions_todays_violations_are_reported(self):
        status, out = self.run_tree(parts=real_rules())
        self.assertEqual(status, 1, out)
        self.assertIn("kernel/console/console.cpp:2", out)
        self.assertIn("arch/x86_64/idt.cpp:3", out)

    def test_allow_and_deny_of_one_arrow_is_malformed(self):
        status, out = self.run_tree(parts=real_rules() + "allow kernel -> drivers\n")
        self.assertEqual(status, 2, out)
        self.assertIn("both allowed", out)

    def test_unknown_part_in_a_rule_is_malformed(self):
        status, out = self.run_tree(parts=real_rules() + "allow kernel -> nosuchpart\n")
        self.assertEqual(status, 2, out)

    def test_empty_tree_fails(self):
        tree = FakeTree({}, real_rules())
        try:
            status, out = tree.check()
        finally:
            tree.remove()
        self.assertEqual(status, 2, out)
        self.assertIn("nothing was checked", out)

    def test_real_tree_passes(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = check_layers.main(["--root", str(ROOT)])
        self.assertEqual(status, 0, out.getvalue())


if __name__ == "__main__":
    unittest.main()
