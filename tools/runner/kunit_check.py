"""A second opinion on a KTAP log: Linux's own parser.

`tools/testing/kunit/kunit.py parse LOG` (from Debian's linux-source-6.1,
which ships /usr/src/linux-source-6.1.tar.xz) reads the same raw serial log
the runner judged. If Linux's parser and ours disagree on the verdict or
on the counts, one of them is wrong, and the boot must not pass.

kunit.py is unpacked once into a cache directory (tools/testing/kunit
only, about 11 s) and reused. kunit.py finds its own root by splitting its
path at `tools/testing/kunit`, so the cache keeps that layout.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import shutil
from pathlib import Path
from typing import Optional

import ktap

LINUX_SOURCE_TARBALL = "/usr/src/linux-source-6.1.tar.xz"
_MEMBER_PREFIX = "linux-source-6.1/tools/testing/kunit/"
_SUMMARY_RE = re.compile(r"Testing complete\. Ran (\d+) tests?(?:: (.*))?$")


class KunitUnavailable(Exception):
    """kunit.py cannot be found or unpacked."""


@dataclasses.dataclass
class KunitVerdict:
    ok: bool            # kunit.py exited 0 (KunitStatus.SUCCESS)
    total: int
    passed: int
    failed: int
    skipped: int
    crashed: int
    errors: int
    output: str


def ensure_kunit(cache: Path, tarball: str = LINUX_SOURCE_TARBALL) -> Path:
    """Returns the path of kunit.py, unpacking it into `cache` once."""
    script = cache / "tools" / "testing" / "kunit" / "kunit.py"
    if script.is_file():
        return script
    if not Path(tarball).is_file():
        raise KunitUnavailable(f"{tarball} missing (apt-get install "
                               f"linux-source-6.1; scripts/install-deps.sh)")
    cache.mkdir(parents=True, exist_ok=True)
    # Unpacked beside the cache and renamed into place, so an interrupted
    # unpack is never mistaken for a complete one.
    partial = cache / "unpacking"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    proc = subprocess.run(["tar", "-xJf", tarball, "-C", str(partial),
                           "--strip-components=1", _MEMBER_PREFIX.rstrip("/")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        raise KunitUnavailable(f"cannot unpack {tarball}: "
                               f"{proc.stdout.strip()[:200]}")
    shutil.rmtree(cache / "tools", ignore_errors=True)
    (partial / "tools").rename(cache / "tools")
    partial.rmdir()
    if not script.is_file():
        raise KunitUnavailable(f"{tarball} has no tools/testing/kunit")
    return script


def parse_summary(output: str, returncode: int) -> Optional[KunitVerdict]:
    """Reads kunit.py's closing `Testing complete. Ran N tests: ...`."""
    for line in reversed(output.splitlines()):
        m = _SUMMARY_RE.search(line.strip())
        if not m:
            continue
        counts = {"passed": 0, "failed": 0, "skipped": 0, "crashed": 0,
                  "errors": 0}
        for part in (m.group(2) or "").split(","):
            key, _, value = part.strip().partition(":")
            if key.strip() in counts and value.strip().isdigit():
                counts[key.strip()] = int(value)
        return KunitVerdict(ok=returncode == 0, total=int(m.group(1)),
                            output=output, **counts)
    return None


def run_kunit(script: Path, log: Path, timeout: float = 60) -> KunitVerdict:
    proc = subprocess.run([sys.executable, str(script), "parse",
                           str(Path(log).resolve())],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    verdict = parse_summary(proc.stdout, proc.returncode)
    if verdict is None:
        return KunitVerdict(ok=proc.returncode == 0, total=-1, passed=-1,
                            failed=-1, skipped=-1, crashed=-1, errors=-1,
                            output=proc.stdout)
    return verdict


def disagreement(ours: ktap.ParseResult, theirs: KunitVerdict) -> \
        Optional[str]:
    """None if kunit.py agrees with our parse of the same log, else why."""
    our_ok = ours.ok
    if our_ok != theirs.ok:
        return (f"kunit.py disagrees: it says "
                f"{'PASS' if theirs.ok else 'FAIL'}, the runner's KTAP "
                f"parser says {'PASS' if our_ok else 'FAIL'}")
    mine = (len(ours.cases), ours.passed, ours.skipped)
    other = (theirs.total, theirs.passed, theirs.skipped)
    if theirs.crashed or theirs.errors:
        # A crashed run: kunit.py counts the cut-off case, we count what
        # printed a result. Only the verdict is compared.
        return None
    if mine != other:
        return (f"kunit.py disagrees on the counts: it ran {theirs.total} "
                f"(passed {theirs.passed}, skipped {theirs.skipped}), the "
                f"runner {mine[0]} (passed {mine[1]}, skipped {mine[2]})")
    return None
