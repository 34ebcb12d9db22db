#!/usr/bin/env python3
"""Build the kernel's TSYM symbol table from `nm -n --defined-only -C` output.

    nm -n --defined-only -C build/tessera.elf | tools/mksyms.py -o build/tessera.sym
    tools/mksyms.py --elf build/tessera.elf -o build/tessera.sym
    tools/mksyms.py listing.txt -o out.sym

GRUB loads the result as a multiboot2 module; kernel/debug/lib/symbol_table.h
reads it and documents the format. Only text symbols (T, t, W) are kept: a
backtrace only ever points into code. Of several symbols at one address the
first nm lists is kept; bytes outside printable ASCII become '?' because the
kernel prints names on a serial console and refuses anything else.
"""

import argparse
import os
import struct
import subprocess
import sys

MAGIC = b"TSYM"
VERSION = 1
TEXT_TYPES = {"T", "t", "W"}
U32_MAX = 0xFFFFFFFF
U64_MAX = 0xFFFFFFFFFFFFFFFF


class ListingError(Exception):
    pass


def parse_nm(lines):
    """Returns [(address, name)] for the text symbols in an nm listing."""
    symbols = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        # "ffffffff80100000 T tessera::kmain(unsigned int, unsigned long)":
        # demangled names contain spaces, so split off only two fields.
        fields = line.split(None, 2)
        if len(fields) < 3:
            # Undefined or absolute symbols without an address; nm
            # --defined-only should not print them, but they are harmless.
            continue
        address_text, kind, name = fields
        if kind not in TEXT_TYPES:
            continue
        try:
            address = int(address_text, 16)
        except ValueError:
            raise ListingError(f"line {number}: {address_text!r} is not a hex address") from None
        if address > U64_MAX:
            raise ListingError(f"line {number}: address {address_text} does not fit in 64 bits")
        symbols.append((address, name))
    return symbols


def printable(name):
    return "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in name)


def build_table(symbols):
    """Encodes [(address, name)] as TSYM bytes (sorted, one name per address)."""
    entries = []
    strings = bytearray()
    seen_addresses = set()
    # sorted() is stable: among equal addresses nm's order decides.
    for address, name in sorted(symbols, key=lambda symbol: symbol[0]):
        if address in seen_addresses:
            continue
        seen_addresses.add(address)
        encoded = printable(name).encode("ascii")
        if not encoded:
            continue
        entries.append(struct.pack("<QII", address, len(strings), len(encoded)))
        strings += encoded
    if len(entries) > U32_MAX or len(strings) > U32_MAX:
        raise ListingError("symbol table too large for 32-bit counts")
    header = MAGIC + struct.pack("<III", VERSION, len(entries), len(strings))
    return header + b"".join(entries) + bytes(strings)


def read_listing(args):
    # Decoded as ASCII with one replacement per foreign byte, so that the
    # table does not depend on the locale.
    if args.elf:
        nm = os.environ.get("NM", "nm")
        result = subprocess.run([nm, "-n", "--defined-only", "-C", args.elf], check=True, capture_output=True)
        data = result.stdout
    elif args.listing in (None, "-"):
        data = sys.stdin.buffer.read()
    else:
        with open(args.listing, "rb") as listing:
            data = listing.read()
    return data.decode("ascii", errors="replace").splitlines()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("listing", nargs="?", help="nm output to read (default: standard input)")
    parser.add_argument("--elf", help="run nm on this ELF file instead of reading a listing")
    parser.add_argument("-o", "--output", required=True, help="where to write the table")
    args = parser.parse_args(argv)
    if args.elf and args.listing:
        parser.error("give either a listing or --elf, not both")
    try:
        table = build_table(parse_nm(read_listing(args)))
    except ListingError as error:
        print(f"mksyms: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"mksyms: nm failed: {error.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return 1
    # Write atomically so that a failed run never leaves a half table that
    # make would consider up to date.
    temporary = args.output + ".tmp"
    with open(temporary, "wb") as output:
        output.write(table)
    os.replace(temporary, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
