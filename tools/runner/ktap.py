"""KTAP version 1 parser, following the rules of Linux's kunit_parser.py.

A KTAP document looks like this (Documentation/dev-tools/ktap.rst):

    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: heap_basic
        1..2
        ok 1 alloc
        # heap.cpp:42 expected 0 got 1
        not ok 2 double_free
    not ok 1 heap_basic
    ok 2 empty_suite # SKIP not built

Rules implemented here:

- The document starts at the first line containing `KTAP version N` (or
  `TAP version 13/14`). Whatever precedes that text on its line is a prefix
  (e.g. a timestamp) that is stripped from the following lines when they
  carry it. Lines before the header are ignored.
- `1..N` is the plan of the test whose lines it is among.
- `ok N [-] [name] [# directive]` / `not ok N ...` are results. A `SKIP`
  directive makes the result a skip whatever `ok`/`not ok` says.
- A subtest's own lines are indented by 4 more spaces than its parent's
  and start with its own `KTAP version 1` and plan. Its result line comes
  after them, at the parent's indentation.
- `# ...` lines are diagnostics; they are attached to the next result line
  at the same depth (KUnit prints `# file:line expected X got Y` before
  `not ok`). `# Subtest: name` names a subtest.
- Any other line is unknown and ignored (other kernel output may be
  interleaved), except that a line that looks like a result (`ok`/`not ok`
  at its start, however indented) but does not parse strictly, or sits at
  an indentation where no test can be open, is reported, so a `not ok` is
  never silently lost. A carriage return inside a line splits it: each
  part is judged as a line of its own (a terminal would hide the first).
- A subtest whose plan is `1..0` ran nothing and does not pass.

What is reported as an error (ParseResult.errors): missing header, missing
plan, "planned N got M", duplicated or out-of-order test numbers, a subtest
without a result line, a second top-level document, `Bail out!`.

Only the standard library is used; this module has no side effects.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable, List, Optional

PASS = "pass"
FAIL = "fail"
SKIP = "skip"

INDENT = 4

_HEADER_RE = re.compile(r"(K?TAP) version (\d+)\s*$")
_PLAN_RE = re.compile(r"^1\.\.(\d+)(?:\s*#\s*(.*))?\s*$")
# Strict, as Linux's kunit_parser.py: one space after `ok`, a number, then
# either the end of the line or a space.
_RESULT_RE = re.compile(
    r"^(not ok|ok) ([0-9]+)(?:$| (?:- ?)?([^#]*?)\s*(?:#\s*(.*?))?\s*$)")
# Anything a reader could take for a result line. A line that matches this
# but not the strict rule above (at a valid indentation) is an error: a
# `not ok` must never be lost to a typo, a tab or a stray space.
_LOOSE_RESULT_RE = re.compile(r"^(?:not\s+)?ok\b", re.IGNORECASE)
_SUBTEST_RE = re.compile(r"^#\s*Subtest:\s*(.*?)\s*$")
_BAIL_RE = re.compile(r"^Bail out!\s*(.*)$")
_TIMESTAMP_PREFIX_RE = re.compile(r"^\[\s*\d+(?:\.\d+)?\]\s?")

_SUPPORTED = {"KTAP": {1}, "TAP": {13, 14}}


@dataclasses.dataclass
class Test:
    """One test: the root document, a suite (subtest) or a leaf case."""

    depth: int
    name: str = ""
    number: Optional[int] = None
    status: Optional[str] = None       # PASS / FAIL / SKIP; None: no result line
    directive: str = ""
    plan: Optional[int] = None
    has_header: bool = False
    children: List["Test"] = dataclasses.field(default_factory=list)
    diagnostics: List[str] = dataclasses.field(default_factory=list)
    line_no: Optional[int] = None      # line of the result (1-based input line)


@dataclasses.dataclass
class Case:
    """A leaf case, named by the dotted path of its ancestors."""

    path: str
    number: int
    status: str
    directive: str
    diagnostics: List[str]


@dataclasses.dataclass
class ParseResult:
    found_header: bool
    root: Test
    errors: List[str]
    cases: List[Case]

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.status == PASS)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.cases if c.status == FAIL)

    @property
    def skipped(self) -> int:
        return sum(1 for c in self.cases if c.status == SKIP)

    @property
    def plan_complete(self) -> bool:
        """Top-level plan present and every plan in the tree satisfied."""
        return self.found_header and _plans_satisfied(self.root)

    @property
    def failures(self) -> List[str]:
        """`not ok N path` for every failing test, leaves and suites."""
        out: List[str] = []
        _collect_failures(self.root, "", out)
        return out

    def problems(self) -> List[str]:
        """Why this document is not a pass; empty when it is one."""
        out: List[str] = []
        if not self.found_header:
            return ["missing KTAP header"]
        out.extend(self.failures)
        out.extend(self.errors)
        if not out and self.passed == 0:
            if self.skipped:
                out.append(f"no KTAP case ran ({self.skipped} skipped)")
            else:
                out.append("no KTAP results")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()


def parse(lines: Iterable[str]) -> ParseResult:
    """Parses KTAP out of `lines` (text lines without newlines)."""
    return _Parser().run(lines)


class _Parser:
    def __init__(self) -> None:
        self.root = Test(depth=0)
        self.stack: List[Test] = []
        self.errors: List[str] = []
        self.pending_diag: dict = {}
        self.found_header = False
        self.prefix = ""
        self.root_done = False
        self.kind = "KTAP"

    def run(self, lines: Iterable[str]) -> ParseResult:
        for line_no, raw in enumerate(lines, 1):
            for part in raw.rstrip("\r\n").split("\r"):
                self._one(part.rstrip(), line_no)
        self.finish()
        cases: List[Case] = []
        _collect_cases(self.root, "", cases)
        return ParseResult(self.found_header, self.root, self.errors, cases)

    def _one(self, line: str, line_no: int) -> None:
        if not self.found_header:
            m = _HEADER_RE.search(line)
            # An indented header opens a subtest, not the document: the
            # top-level header is missing.
            if m and (m.start() == 0 or line[: m.start()].strip()):
                self.prefix = line[: m.start()]
                self.kind = m.group(1)
                self.found_header = True
                self.root.has_header = True
                self._check_version(m, 0)
                self.stack = [self.root]
            return
        self.line(self._strip_prefix(line), line_no)

    def _strip_prefix(self, line: str) -> str:
        if not self.prefix:
            return line
        if line.startswith(self.prefix):
            return line[len(self.prefix):]
        if _TIMESTAMP_PREFIX_RE.match(self.prefix):
            return _TIMESTAMP_PREFIX_RE.sub("", line, count=1)
        return line

    def _check_version(self, m: re.Match, depth: int) -> None:
        kind, version = m.group(1), int(m.group(2))
        if version not in _SUPPORTED[kind]:
            self.errors.append(
                f"unsupported {kind} version {version} at depth {depth}")

    def _err(self, msg: str, line_no: int) -> None:
        self.errors.append(f"line {line_no}: {msg}")

    def _unwind_to(self, size: int, line_no: int) -> None:
        """Closes open subtests deeper than stack[size-1]: they never got a
        result line (e.g. the kernel crashed or printed at a wrong depth)."""
        while len(self.stack) > size:
            node = self.stack.pop()
            self._err(f"subtest '{node.name or '?'}' at depth {node.depth} "
                      f"ended without a result line", line_no)
            self._attach(self.stack[-1], node, line_no)

    def _attach(self, parent: Test, child: Test, line_no: int) -> None:
        parent.children.append(child)
        if child.number is None:
            return
        expected = len(parent.children)
        seen = [c.number for c in parent.children[:-1]]
        where = f"in '{parent.name}'" if parent.name else "at top level"
        if child.number in seen:
            self._err(f"duplicate test number {child.number} {where}", line_no)
        elif child.number != expected:
            self._err(f"out-of-order test number {child.number} {where}, "
                      f"expected {expected}", line_no)

    def line(self, line: str, line_no: int) -> None:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not stripped:
            return
        depth, rem = divmod(indent, INDENT)
        header = _HEADER_RE.match(stripped)
        plan = _PLAN_RE.match(stripped)
        result = _RESULT_RE.match(stripped)
        subtest = _SUBTEST_RE.match(stripped)
        bail = _BAIL_RE.match(stripped)
        structural = header or plan or result or subtest or bail
        if _LOOSE_RESULT_RE.match(line.strip()) and (
                not result or rem != 0 or depth > len(self.stack)):
            where = f" at unexpected indentation {indent}" if rem or \
                depth > len(self.stack) else ""
            self._err(f"unparsable result line{where}: {line.strip()!r}",
                      line_no)
            return
        if not structural:
            if stripped.startswith("#") and rem == 0 and depth < len(self.stack):
                self.pending_diag.setdefault(depth, []).append(stripped)
            return  # unknown line
        if self.root_done and depth == 0:
            if header:
                self._err("second top-level KTAP document", line_no)
            elif result or plan:
                self._err("KTAP line after the top-level plan was complete",
                          line_no)
            return
        if rem != 0 or depth > len(self.stack):
            if result or plan or bail:
                self._err(f"KTAP line at unexpected indentation {indent}: "
                          f"'{stripped}'", line_no)
            return

        if header:
            if depth == 0:
                self._err("repeated top-level KTAP header", line_no)
                return
            self._check_version(header, depth)
            if len(self.stack) == depth + 1 and _is_fresh(self.stack[depth]):
                self.stack[depth].has_header = True  # "# Subtest:" came first
                return
            self._unwind_to(depth, line_no)
            self.stack.append(Test(depth=depth, has_header=True))
            return

        if subtest:
            if depth == 0:
                return  # a top-level "# Subtest:" names nothing useful
            if len(self.stack) > depth:
                open_test = self.stack[depth]
                if open_test.name or open_test.plan is not None or \
                        open_test.children:
                    self._unwind_to(depth, line_no)  # a new sibling begins
            self._unwind_to(depth + 1, line_no)
            if depth == len(self.stack):
                self.stack.append(Test(depth=depth))
            self.stack[depth].name = subtest.group(1)
            return

        if depth == len(self.stack):
            # A plan or result one level deeper than any open test, without
            # a header: a subtest that forgot its `KTAP version 1` line.
            self.stack.append(Test(depth=depth))
        # A result at `depth` may close the subtest open at depth+1; a plan
        # or `Bail out!` closes nothing.
        self._unwind_to(depth + (2 if result else 1), line_no)
        owner = self.stack[depth]

        if bail:
            self._err(f"Bail out! {bail.group(1)}".rstrip(), line_no)
            return

        if plan:
            if owner.plan is not None:
                self._err(f"second plan 1..{plan.group(1)} "
                          f"(already 1..{owner.plan})", line_no)
                return
            owner.plan = int(plan.group(1))
            # KTAP puts the plan right after the header; a trailing plan is
            # allowed by TAP, so it is accepted and checked like any other.
            return

        # A result line at `depth` belongs to stack[depth]. If a subtest at
        # depth+1 is open, this line is that subtest's result.
        not_ok, number, name, directive = result.groups()
        if len(self.stack) == depth + 2:
            node = self.stack.pop()
        else:
            node = Test(depth=depth + 1)
        node.number = int(number)
        result_name = (name or "").strip()
        if result_name:
            node.name = result_name
        node.directive = (directive or "").strip()
        if node.directive.upper().startswith("SKIP"):
            node.status = SKIP
        else:
            node.status = FAIL if not_ok == "not ok" else PASS
        node.line_no = line_no
        node.diagnostics.extend(self.pending_diag.pop(depth, []))
        if depth + 1 in self.pending_diag:
            node.diagnostics.extend(self.pending_diag.pop(depth + 1))
        if self.kind == "KTAP" and not node.has_header and \
                (node.children or node.plan is not None):
            self._err(f"subtest '{node.name}' has no KTAP version header",
                      line_no)
        self._attach(owner, node, line_no)
        if depth == 0 and owner.plan is not None and \
                _result_count(owner) >= owner.plan:
            self.root_done = True

    def finish(self) -> None:
        if not self.found_header:
            return
        end = "end of output"
        while len(self.stack) > 1:
            node = self.stack.pop()
            self.errors.append(f"{end}: subtest '{node.name or '?'}' at depth "
                               f"{node.depth} ended without a result line")
            self.stack[-1].children.append(node)
        _check_plans(self.root, "", self.errors)


def _label(path: str) -> str:
    return f"'{path}'" if path else "top level"


def _is_fresh(test: Test) -> bool:
    """An open subtest that has seen nothing but (maybe) its name."""
    return test.plan is None and not test.children and not test.has_header


def _result_count(test: Test) -> int:
    """Children that printed a result line; a subtest cut off before its
    result line does not count towards its parent's plan."""
    return sum(1 for c in test.children if c.number is not None)


def _check_plans(test: Test, path: str, errors: List[str]) -> None:
    if test.has_header or test.plan is not None or test.children:
        got = _result_count(test)
        if test.plan is None:
            if path:
                errors.append(f"missing plan in {_label(path)}")
            else:
                errors.append("missing KTAP plan")
        elif test.plan == 0 and path and test.status != SKIP:
            errors.append(f"{_label(path)} planned no cases (1..0)")
        elif test.plan != got:
            if path:
                errors.append(f"planned {test.plan} got {got} "
                              f"in {_label(path)}")
            else:
                errors.append(f"KTAP plan 1..{test.plan} but {got} results")
    for child in test.children:
        _check_plans(child, _join(path, child), errors)


def _plans_satisfied(test: Test) -> bool:
    if test.has_header or test.plan is not None or test.children:
        if test.plan is None or test.plan != _result_count(test):
            return False
    return all(_plans_satisfied(c) for c in test.children)


def _join(path: str, child: Test) -> str:
    name = child.name or (f"#{child.number}" if child.number else "?")
    return f"{path}.{name}" if path else name


def _collect_cases(test: Test, path: str, out: List[Case]) -> None:
    for child in test.children:
        child_path = _join(path, child)
        if child.children:
            _collect_cases(child, child_path, out)
        else:
            status = child.status or FAIL  # no result line: it did not pass
            if child.plan == 0 and status == PASS:
                status = FAIL  # a suite of no cases passed nothing
            out.append(Case(child_path, child.number or 0, status,
                            child.directive, child.diagnostics))


def _collect_failures(test: Test, path: str, out: List[str]) -> None:
    for child in test.children:
        child_path = _join(path, child)
        before = len(out)
        # The failing leaves say what broke; a suite's own `not ok` is
        # reported only when none of its cases explains it.
        _collect_failures(child, child_path, out)
        if child.status == FAIL and len(out) == before:
            out.append(f"not ok {child.number} {child_path}")
