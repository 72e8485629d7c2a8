#!/usr/bin/env python3
"""Lists the skipped tests of TRX reports against an allow-list of regular expressions.

usage: check_skips.py ALLOWED_SKIPS_FILE REPORT.trx...
Prints one line per skipped test, "allowed: <name>: <reason>" or "NOT ALLOWED: <name>: <reason>",
and exits 0; exits 2 when a report cannot be read (so CI cannot pass without the check).
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def patterns(path):
    with open(path, encoding="utf-8") as f:
        return [re.compile(line.strip()) for line in f if line.strip() and not line.lstrip().startswith("#")]


def skips(report):
    root = ET.parse(report).getroot()
    for result in root.iterfind(".//t:Results/t:UnitTestResult", NS):
        if result.get("outcome") != "NotExecuted":
            continue
        reason = " ".join(
            (e.text or "").strip() for e in result.iterfind(".//t:Output//t:Message", NS)
        ) or " ".join((e.text or "").strip() for e in result.iterfind(".//t:Output/t:StdOut", NS))
        yield result.get("testName", "?"), re.sub(r"\s+", " ", reason).strip() or "(no reason given)"


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    allowed = patterns(argv[1])
    try:
        found = [s for report in argv[2:] for s in skips(report)]
    except (OSError, ET.ParseError) as e:
        print(f"cannot read the test reports: {e}", file=sys.stderr)
        return 2
    for name, reason in sorted(found):
        line = f"{name}: {reason}"
        print(("allowed: " if any(p.search(line) for p in allowed) else "NOT ALLOWED: ") + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
