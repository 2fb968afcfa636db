#!/usr/bin/env python3
"""Times pydifact (PyPI pydifact==0.2.3) parsing every segment of an EDIFACT file, for scripts/bench-edifact.sh.

usage: pydifact-bench.py FILE [REPEAT]
prints one line: bytes parse_seconds mb_per_s segments elements peak_rss_kib

pydifact's parser takes a whole str, so the file is read and decoded (Latin-1, byte-transparent) before
the clock starts; that text is part of its peak RSS, as it would be in any pydifact application.
Run one file per process: ru_maxrss never goes down.
"""
import resource
import sys
import time
import warnings


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    try:
        from pydifact.parser import Parser
    except ImportError:
        print("pydifact is not installed: run scripts/setup-test-deps.sh", file=sys.stderr)
        return 3
    # pydifact warns on every service segment that it has no directory XML to validate against.
    warnings.simplefilter("ignore")
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("latin-1")
    best = float("inf")
    segments = elements = 0
    for _ in range(repeat):
        segments = elements = 0
        start = time.perf_counter()
        for segment in Parser().parse(text):
            segments += 1
            elements += len(segment.elements)
        best = min(best, time.perf_counter() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{len(raw)} {best:.6f} {len(raw) / 1e6 / best:.2f} {segments} {elements} {peak_kib}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
