"""Print pytest's counts from JUnit XML files: per file, or `--total` as one 'N passed, N failed' line."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def counts(path: Path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


if __name__ == "__main__":
    args = sys.argv[1:]
    total = args and args[0] == "--total"
    paths = [Path(a) for a in args[1:] if Path(a).exists()] if total else [Path(args[0])]
    sums = [sum(c) for c in zip(*(counts(p) for p in paths), strict=True)] if paths else [0, 0, 0]
    line = f"{sums[0]} passed, {sums[1]} failed" + (f", {sums[2]} skipped" if sums[2] else "")
    print(("total: " if total else "") + line)
