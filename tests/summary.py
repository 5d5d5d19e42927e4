#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Counts every TAP check of a meson test run and prints the closing line `N passed, N failed`.

A test program that crashed, timed out or printed fewer checks than its plan counts as one more failure, so a
crash can never hide behind the checks that ran before it."""
import json
import re
import sys

log = sys.argv[1] if len(sys.argv) > 1 else "build-test/meson-logs/testlog.json"
passed = failed = skipped = 0
broken = []
with open(log, encoding="utf-8", errors="replace") as f:
    for line in f:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line cut short (meson killed mid-write) is one broken test, not a crash
            failed += 1
            broken.append("unreadable test log line")
            continue
        out = rec.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+", out, re.M))
        skip = len(re.findall(r"^ok \d+.*# SKIP", out, re.M | re.I))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        passed += ok - skip
        skipped += skip
        failed += bad
        if rec.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
            failed += 1
            broken.append(f'{rec.get("name")}: {rec.get("result")}')
for b in broken:
    print(f"# broken test program: {b}")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
