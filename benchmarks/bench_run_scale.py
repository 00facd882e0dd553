"""The main job at growing corpus sizes: peak memory and seconds per million characters.

    python benchmarks/bench_run_scale.py [--data ../shared/data] [--factors 1 4 16] [--unit document]
                                         [--engine dask --n-jobs 2]

The government work reports are repeated ``factor`` times (ids made unique) into a ``.jsonl.gz`` in a
temporary folder, and ``zhili run`` is started on each copy as a fresh process with a fresh cache, as a
user would. Printed per factor: characters, wall seconds, seconds per million characters, peak RSS, and
both as ratios to the smallest factor measured in the same call (the figures to read: a flat memory
ratio and a flat seconds-per-million ratio mean the job scales linearly in time and not at all in memory).
With ``--engine dask`` the run segments on a local Dask cluster of ``--n-jobs`` workers; the peak is then this
process's or its largest child's (a worker).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def scaled_copy(src: Path, factor: int, folder: Path) -> tuple[Path, int]:
    """The reports repeated ``factor`` times; returns the file and its number of characters."""
    records = [json.loads(line) for line in gzip.open(src, "rt", encoding="utf-8")]
    out = folder / f"reports_x{factor}.jsonl.gz"
    chars = 0
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        for rep in range(factor):
            for rec in records:
                fh.write(json.dumps({**rec, "id": f"{rec['id']}-r{rep}"}, ensure_ascii=False) + "\n")
                chars += len(rec["text"])
    return out, chars


def run_zhili(args: list[str], cache: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB; this process or its largest child) of one ``zhili`` command
    in a fresh child process with ``cache`` as its cache folder."""
    cmd = [sys.executable, "-c",
           "import resource, sys; from zhili.cli import main; rc = main(sys.argv[1:]);"
           "r = resource.getrusage; print('PEAK', max(r(resource.RUSAGE_SELF).ru_maxrss,"
           " r(resource.RUSAGE_CHILDREN).ru_maxrss), file=sys.stderr); sys.exit(rc)", "-q", *args]
    env = {**os.environ, "ZHILI_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"zhili {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    peak_kib = max(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK"))
    return wall, peak_kib / 1024


def run_once(source: Path, unit: str, out: Path, cache: Path, extra: list[str] = ()) -> tuple[float, float]:
    """``zhili run`` on ``source`` as a user would (see :func:`run_zhili`)."""
    return run_zhili(["run", str(source), "--unit", unit, "--out", str(out), *extra], cache)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--factors", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--unit", default="document")
    p.add_argument("--engine", default="local", choices=("local", "dask"))
    p.add_argument("--n-jobs", type=int, default=1)
    a = p.parse_args()
    extra = ["--engine", a.engine, "--n-jobs", str(a.n_jobs)]
    src = a.data / "gov_work_reports" / "docs.jsonl.gz"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for factor in a.factors:
            source, chars = scaled_copy(src, factor, tmp)
            wall, peak = run_once(source, a.unit, tmp / f"out{factor}", tmp / f"cache{factor}", extra)
            rows.append((factor, chars, wall, wall / (chars / 1e6), peak))
            source.unlink()
    base = rows[0]
    print(f"{'factor':>6} {'M chars':>8} {'wall s':>8} {'s/M chars':>10} {'peak MiB':>9} {'s/M ratio':>10} {'peak ratio':>11}")
    for factor, chars, wall, per_m, peak in rows:
        print(f"{factor:>6} {chars / 1e6:8.1f} {wall:8.1f} {per_m:10.2f} {peak:9.0f} "
              f"{per_m / base[3]:10.2f} {peak / base[4]:11.2f}")


if __name__ == "__main__":
    main()
