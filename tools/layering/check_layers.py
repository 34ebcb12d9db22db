#!/usr/bin/env python3
"""Hold every #include in the tree against the parts file (layers.txt).

Usage: check_layers.py [--root DIR] [--parts FILE] [--quiet]

Scans the .c/.cpp/.h/.S files git knows about (tracked, or untracked and not
ignored), resolves each #include to a file of the tree (`<arch/...>` through
arch/x86_64/include), and reports every include that crosses an arrow the
parts file does not allow, as `file:line: ... rule: ...`. Exit status: 0
clean, 1 violations (or a stale exception), 2 a malformed parts file or
nothing to check. Python 3 standard library only.
"""
import argparse
import fnmatch
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_SUFFIXES = (".c", ".cpp", ".h", ".S")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
# `<arch/foo.h>` names the same header on every architecture (STYLE item 4).
ARCH_INCLUDE_DIR = "arch/x86_64/include"


class PartsError(Exception):
    pass


@dataclass
class Parts:
    prefixes: dict = field(default_factory=dict)  # part name -> folder prefix
    allowed: dict = field(default_factory=dict)  # part -> {part: line}
    denied: dict = field(default_factory=dict)  # part -> {part: line}
    system: dict = field(default_factory=dict)  # part -> "freestanding" | "any"
    freestanding: set = field(default_factory=set)
    portable: list = field(default_factory=list)
    portable_files: dict = field(default_factory=dict)  # file -> line
    exceptions: dict = field(default_factory=dict)  # (file, part) -> line
    host_headers: dict = field(default_factory=dict)  # (file, header) -> line

    def part_of(self, path):
        best = None
        for name, prefix in self.prefixes.items():
            if path.startswith(prefix) and (best is None or len(prefix) > len(self.prefixes[best])):
                best = name
        return best

    def is_portable(self, path):
        if path in self.portable_files:
            return True
        parts = path.split("/")[:-1]
        folders = ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatchcase(folder, glob) for glob in self.portable for folder in folders)


def parse_arrow(words, lineno, directive):
    if len(words) < 3 or words[1] != "->":
        raise PartsError(f"line {lineno}: expected `{directive} A -> B ...`")
    return words[0], words[2:]


def load_parts(text):
    parts = Parts()
    arrows = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        directive, rest = words[0], words[1:]
        if directive == "part":
            if len(rest) != 2 or not rest[1].endswith("/"):
                raise PartsError(f"line {lineno}: expected `part NAME PREFIX/`")
            parts.prefixes[rest[0]] = rest[1]
        elif directive in ("allow", "deny"):
            source, targets = parse_arrow(rest, lineno, directive)
            arrows.append((directive, source, targets, lineno))
        elif directive == "system":
            if len(rest) != 2 or rest[1] not in ("freestanding", "any"):
                raise PartsError(f"line {lineno}: expected `system PART freestanding|any`")
            arrows.append(("system", rest[0], [], lineno))
            parts.system[rest[0]] = rest[1]
        elif directive == "freestanding":
            parts.freestanding.update(rest)
        elif directive == "portable":
            if len(rest) != 1:
                raise PartsError(f"line {lineno}: expected `portable GLOB`")
            parts.portable.append(rest[0])
        elif directive == "portable-file":
            if len(rest) != 1:
                raise PartsError(f"line {lineno}: expected `portable-file FILE`")
            parts.portable_files[rest[0]] = lineno
        elif directive == "exception":
            source, targets = parse_arrow(rest, lineno, directive)
            for target in targets:
                parts.exceptions[(source, target)] = lineno
        elif directive == "host-header":
            if len(rest) != 2:
                raise PartsError(f"line {lineno}: expected `host-header FILE HEADER`")
            parts.host_headers[(rest[0], rest[1])] = lineno
        else:
            raise PartsError(f"line {lineno}: unknown directive `{directive}`")
    for directive, source, targets, lineno in arrows:
        for name in [source, *targets]:
            if name not in parts.prefixes:
                raise PartsError(f"line {lineno}: `{name}` is not a part")
        table = parts.allowed if directive == "allow" else parts.denied
        for target in targets:
            table.setdefault(source, {})[target] = lineno
    for source, targets in parts.denied.items():
        for target, lineno in targets.items():
            if target in parts.allowed.get(source, {}):
                raise PartsError(f"line {lineno}: `{source} -> {target}` is both allowed "
                                 f"(line {parts.allowed[source][target]}) and denied")
    for (source, target), lineno in parts.exceptions.items():
        if target not in parts.prefixes:
            raise PartsError(f"line {lineno}: `{target}` is not a part")
        if target not in parts.denied.get(parts.part_of(source) or "", {}):
            raise PartsError(f"line {lineno}: exception `{source} -> {target}` excuses no deny rule")
    return parts


def list_sources(root):
    result = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise PartsError(f"git ls-files failed in {root}: {result.stderr.strip()}")
    return sorted(p for p in result.stdout.splitlines() if p.endswith(SOURCE_SUFFIXES) and (root / p).is_file())


def resolve(root, parts, including, quote, name):
    """The tree path an include names, or None for a header outside the tree."""
    if quote == '"':
        local = os.path.normpath(os.path.join(os.path.dirname(including), name))
        if (root / local).is_file():
            return local
    if name.startswith("arch/") and not (root / name).exists():
        return f"{ARCH_INCLUDE_DIR}/{name}"
    if (root / name).is_file() or parts.part_of(name) is not None:
        return name
    return None


@dataclass
class Violation:
    path: str
    line: int
    include: str
    rule: str

    def __str__(self):
        return f"{self.path}:{self.line}: #include <{self.include}>: {self.rule}"


def check_include(root, parts, path, part, quote, name):
    """None if the include may stand, else (rule text, exception key or None)."""
    target_path = resolve(root, parts, path, quote, name)
    if target_path is None:
        allowed = parts.system.get(part)
        if allowed == "any" or (allowed == "freestanding" and name in parts.freestanding):
            return None
        if (path, name) in parts.host_headers:
            return "", (path, name)
        what = "only the compiler's freestanding headers" if allowed else "no header outside the tree"
        return f"header outside the tree; part {part} may include {what} (layers.txt `system`)", None
    target = parts.part_of(target_path)
    if target is None:
        return f"{target_path} belongs to no part (add a `part` line to layers.txt)", None
    if target != part:
        if target in parts.denied.get(part, {}):
            return f"{part} -> {target} is denied (layers.txt line {parts.denied[part][target]})", (path, target)
        if target not in parts.allowed.get(part, {}):
            return f"{part} -> {target} is not an allowed arrow (layers.txt has no `allow {part} -> {target}`)", None
    if parts.is_portable(path) and not parts.is_portable(target_path):
        return (f"{path} is portable (layers.txt `portable`) and may include only portable folders, "
                f"not {target_path}"), None
    return None


def check_tree(root, parts):
    """Returns (files checked, violations, stale exceptions)."""
    files = list_sources(root)
    violations = []
    used = set()
    for path in files:
        part = parts.part_of(path)
        if part is None:
            violations.append(Violation(path, 1, "", "file belongs to no part (add a `part` line to layers.txt)"))
            continue
        text = (root / path).read_text(encoding="utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            verdict = check_include(root, parts, path, part, match.group(1), match.group(2))
            if verdict is None:
                continue
            rule, key = verdict
            if key is not None and (key in parts.exceptions or key in parts.host_headers):
                used.add(key)
                continue
            violations.append(Violation(path, lineno, match.group(2), rule))
    stale = [f"layers.txt line {line}: exception `{source} -> {target}` matches no include any more; delete it"
             for (source, target), line in sorted(parts.exceptions.items()) if (source, target) not in used]
    stale += [f"layers.txt line {line}: portable-file `{path}` does not exist; delete it"
              for path, line in sorted(parts.portable_files.items()) if not (root / path).is_file()]
    stale += [f"layers.txt line {line}: host-header `{source} {header}` matches no include any more; delete it"
              for (source, header), line in sorted(parts.host_headers.items()) if (source, header) not in used]
    return files, violations, stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--parts", help="parts file (default: ROOT/layers.txt)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    parts_file = Path(args.parts) if args.parts else root / "layers.txt"
    try:
        parts = load_parts(parts_file.read_text(encoding="utf-8"))
        files, violations, stale = check_tree(root, parts)
    except (OSError, PartsError) as error:
        print(f"layers: {parts_file}: {error}", file=sys.stderr)
        return 2
    for violation in violations:
        print(violation)
    for message in stale:
        print(message)
    if not files:
        print("layers: no source files found: nothing was checked", file=sys.stderr)
        return 2
    if violations or stale:
        print(f"layers: {len(violations)} forbidden includes, {len(stale)} stale exceptions in {len(files)} files")
        return 1
    if not args.quiet:
        print(f"layers: {len(files)} files clean ({len(parts.exceptions)} temporary exceptions in layers.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
