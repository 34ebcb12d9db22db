#!/usr/bin/env python3
"""Write a compile_commands.json (the clang tooling format) for the kernel.

Usage: compile_commands.py OUTPUT OBJDIR COMPILER FLAGS -- SOURCE...

The Makefile passes its own KERNEL_CXXFLAGS, so clang-tidy and editors see
exactly the flags the build uses (`make compile_commands`).
"""
import json
import os
import sys


def main(argv):
    output, objdir, compiler, *rest = argv
    split = rest.index("--")
    flags, sources = rest[:split], rest[split + 1:]
    if not sources:
        print("compile_commands.py: no sources", file=sys.stderr)
        return 1
    directory = os.getcwd()
    entries = [{"directory": directory, "file": source, "output": f"{objdir}/{source}.o",
                "arguments": [compiler, *flags, "-c", source, "-o", f"{objdir}/{source}.o"]} for source in sources]
    with open(output + ".tmp", "w", encoding="utf-8") as out:
        json.dump(entries, out, indent=1)
    os.replace(output + ".tmp", output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
