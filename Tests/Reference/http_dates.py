#!/usr/bin/env python3
"""Writes Tests/Fixtures/http1/imf_fixdates.json: (epoch seconds, IMF-fixdate) pairs for HTTPDate tests.

The oracle is Python's email.utils.formatdate(usegmt=True), which emits RFC 9110 IMF-fixdate. Offline, seeded,
stdlib only. Run from the repository root: python3 Tests/Reference/http_dates.py
"""
import email.utils
import json
import platform
import random
from pathlib import Path

SEED = 20261129
OUT = Path(__file__).resolve().parent.parent / "Fixtures" / "http1" / "imf_fixdates.json"

# Edge cases: epoch, before the epoch, the RFC 9110 example, leap days (2000 is a leap year, 1900 and 2100 are
# not), ends of months and years, the last second representable with a four-digit year.
EDGES = [0, -1, 59, 86_399, 86_400, 784_111_777, 951_782_400, 951_868_799, 978_307_199, 1_709_164_800,
         4_107_456_000, 4_107_542_400, -2_203_891_200, -2_208_988_800, 253_402_300_799]

def main() -> None:
    rng = random.Random(SEED)
    epochs = EDGES + [rng.randrange(-2_208_988_800, 253_402_300_800) for _ in range(60)]
    rows = [{"epoch": e, "date": email.utils.formatdate(e, usegmt=True)} for e in epochs]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "Tests/Reference/http_dates.py",
        "python": platform.python_version(),
        "seed": SEED,
        "rows": rows,
    }, indent=1) + "\n")
    print(f"wrote {len(rows)} rows to {OUT}")

if __name__ == "__main__":
    main()
