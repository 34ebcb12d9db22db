#!/usr/bin/env python3
"""Rewrites the test counts in README.md from the last `make check` run.

tools/check.py writes build/check/summary.json; this replaces the text
between `<!-- counts:begin -->` and `<!-- counts:end -->` in README.md with
a sentence made from it, so the README never states counts by hand.
Exit status 1 if the summary or the markers are missing, or the run failed.
Usage: tools/update-readme-counts.py [--summary FILE] [--readme FILE]
(`make readme`).
"""
import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- counts:begin -->"
END = "<!-- counts:end -->"


def sentence(data):
    tiers = data["tiers"]
    parts = []
    for name, tier in tiers.items():
        words = f"{tier['passed'] + tier['failed']} {name}"
        if tier.get("skipped"):
            words += f" ({tier['skipped']} more skipped)"
        if name == "boot" and "boots" in tier:
            words = f"{tier['passed'] + tier['failed']} from {tier['boots']} QEMU boots"
            if tier.get("skipped"):
                words += f" ({tier['skipped']} KTAP cases skipped)"
        parts.append(words)
    counts = f"{data['passed']} passed, {data['failed']} failed"
    if data.get("skipped"):
        counts += f", {data['skipped']} skipped"
    text = (f"The last `make check` ({data['finished'][:10]}, {data['seconds']} s) counted "
            f"{counts}: {', '.join(parts)}.")
    selftests = data.get("selftest_cases") or {}
    if selftests:
        per_boot = sorted(set(selftests.values()))
        cases = " or ".join(str(n) for n in per_boot)
        text += (f" The boot count includes {len(selftests)} selftest boots of {cases} KTAP cases each, "
                 f"plus every boot's own verdict.")
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", default=str(ROOT / "build" / "check" / "summary.json"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args(argv)
    try:
        data = json.loads(Path(args.summary).read_text())
    except (OSError, ValueError) as error:
        print(f"update-readme-counts: cannot read {args.summary}: {error} (run `make check`)", file=sys.stderr)
        return 1
    if data.get("failed"):
        print(f"update-readme-counts: the last run had {data['failed']} failures; not recording it",
              file=sys.stderr)
        return 1
    readme = Path(args.readme)
    text = readme.read_text()
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)
    if len(pattern.findall(text)) != 1:
        print(f"update-readme-counts: {readme} needs exactly one {BEGIN} ... {END} block", file=sys.stderr)
        return 1
    block = f"{BEGIN}\n{sentence(data)}\n{END}"
    readme.write_text(pattern.sub(lambda _: block, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
