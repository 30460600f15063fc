"""Alerts benchmark (so far: log templating speed; issue 15 adds replay, intake, accuracy).

Templating: the real Kubernetes e2e build log in ../shared/fixtures/ci/sonobuoy-e2e/,
repeated with its numbers shifted so that no two copies are identical, mined in one pass.

    python bench/alerts.py            # 200,000 lines
    python bench/alerts.py --quick    # 20,000 lines
    python bench/alerts.py --json out.json
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from _measure import print_figures

from kubesift.alerts.templates import mine
from kubesift.config import find_fixtures

#: Numbers standing alone (not the 8 of k8s.io or the 0817 of a klog prefix I0817).
_NUMBER = re.compile(r"(?<![A-Za-z\d])\d+(?![A-Za-z\d])")


def lines(count: int) -> list[str]:
    found = find_fixtures("ci")
    if found is None:
        sys.exit("../shared/fixtures/ci is absent: set KUBESIFT_DATASETS or check out shared/")
    base = (found / "sonobuoy-e2e" / "e2e.head.log").read_text().splitlines()
    out: list[str] = []
    copy = 0
    while len(out) < count:
        copy += 1
        out += [_NUMBER.sub(lambda m, k=copy: str(int(m.group()) + k), ln) for ln in base]
    return out[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 lines")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    args = parser.parse_args()
    data = lines(20_000 if args.quick else 200_000)
    started = time.perf_counter()
    found = mine(data)
    seconds = time.perf_counter() - started
    figures = {
        "template_lines": len(data),
        "template_seconds": round(seconds, 2),
        "template_lines_per_s": round(len(data) / seconds),
        "templates": len({t for t, _ in found}),
    }
    print_figures(figures, args.json)


if __name__ == "__main__":
    main()
