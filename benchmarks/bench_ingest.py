"""Peak memory of ingest (`zhili.corpus()`), against baselines measured in the same run.

    python benchmarks/bench_ingest.py [--data ../shared/data] [--scales 4 16] [--baseline-rev 1cbe495]

The government work reports (docs.jsonl.gz) are repeated ×k with unique ids into a temporary
folder (never into the repository). Each figure is the peak RSS of one fresh process that
imports zhili and calls ``zhili.corpus(path)``:

1. this checkout, per scale, and the growth from the smallest to the largest scale;
2. the same call with zhili at ``--baseline-rev`` (a git revision extracted to a temporary
   folder; default: the last commit before streaming ingest), as a ratio current / baseline;
3. the floor: a process that only imports zhili and pandas (so ratios can be read net of it),
   and the decompressed size of each file.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE_REV = "1cbe495"

CHILD = r"""
import resource, sys, time, warnings
warnings.simplefilter("ignore")
import pandas, zhili
if sys.argv[1] != "-":
    t = time.perf_counter()
    c = zhili.corpus(sys.argv[1])
    seconds = time.perf_counter() - t
    n = len(c)
else:
    seconds, n = 0.0, 0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, seconds, n)
"""


def scaled_copy(source: Path, k: int, folder: Path) -> Path:
    """The reports repeated k times, ids made unique, as one .jsonl.gz."""
    path = folder / f"reports_x{k}.jsonl.gz"
    if path.exists():
        return path
    with gzip.open(source, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for copy in range(k):
            for rec in lines:
                out.write(json.dumps({**rec, "id": f"{rec['id']}-{copy}"}, ensure_ascii=False) + "\n")
    return path


def measure(pythonpath: Path, path: Path | str) -> tuple[float, float, int]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, capture_output=True, text=True, check=True)
    mb, seconds, n = out.stdout.split()
    return float(mb), float(seconds), int(n)


def extract_revision(rev: str, folder: Path) -> Path | None:
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "analysis"], capture_output=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "analysis"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ZHILI_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--scales", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the scaled copies (default: a new temporary one)")
    args = parser.parse_args()
    source = args.data / "gov_work_reports" / "docs.jsonl.gz"
    if not source.exists():
        sys.exit(f"{source} not found (pass --data)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.tmp or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        current = REPO / "analysis"
        baseline = extract_revision(args.baseline_rev, Path(tmp)) if args.baseline_rev else None
        floor = measure(current, "-")[0]
        print(f"floor (import zhili, pandas): {floor:.0f} MB")
        print(f"{'scale':>6} {'MiB text':>9} {'docs':>6} {'current MB':>11} {'s':>6} {'baseline MB':>12} {'s':>6} {'cur/base':>9} {'net cur/base':>13}")
        rows = []
        for k in args.scales:
            path = scaled_copy(source, k, folder)
            with gzip.open(path, "rb") as f:
                size = sum(len(block) for block in iter(lambda: f.read(1 << 20), b"")) / 2**20
            cur_mb, cur_s, n = measure(current, path)
            base_mb, base_s = (measure(baseline, path)[:2] if baseline else (float("nan"), float("nan")))
            rows.append((k, cur_mb, base_mb))
            print(f"{k:>6} {size:>9.1f} {n:>6} {cur_mb:>11.0f} {cur_s:>6.1f} {base_mb:>12.0f} {base_s:>6.1f} "
                  f"{cur_mb / base_mb:>9.2f} {(cur_mb - floor) / (base_mb - floor):>13.2f}")
        (k0, c0, b0), (k1, c1, b1) = rows[0], rows[-1]
        print(f"growth x{k0} -> x{k1}: current {c1 / c0:.2f}x (net of floor {(c1 - floor) / (c0 - floor):.2f}x), "
              f"baseline {b1 / b0:.2f}x (net {(b1 - floor) / (b0 - floor):.2f}x)")


if __name__ == "__main__":
    main()
