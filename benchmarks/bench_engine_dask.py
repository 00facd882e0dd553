"""The counting path on the Dask engine vs the local engine: throughput per core, in one run.

    python benchmarks/bench_engine_dask.py [--data ../shared/data] [--level city] [--times 4] [--workers 2] [--repeat 3]

The city reports of ``gov_work_reports`` (``--level all`` for every report) are repeated ``--times`` times
(ids made unique), read once (ingest stays local in both engines) and split into paragraphs; then
normalise + segment + filter + count (:func:`zhili.pipeline.tokenize` and :func:`zhili.pipeline.count`,
no cache) run on

* the local engine with 1 process (the baseline) and with ``--workers`` processes (``--n-jobs``);
* the Dask engine on a ``LocalCluster`` of ``--workers`` one-thread worker processes.

Printed per engine: seconds (best of ``--repeat``; the first call also shown, cold: the workers load
their dictionaries then), characters per second per core (cores = processes or worker threads), and
both as ratios to the 1-process local engine, and where it can be measured the CPU seconds of the best
call (this process plus every worker) with characters per CPU second — the per-core figure that a busy,
shared machine does not distort. The cluster's start-up is printed apart (paid once per
``zhili run``). The benchmark fails if the Dask engine's documents, terms or DTM differ from the
local engine's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from zhili.dask_engine import cluster
from zhili.pipeline import RunSettings, count, ingest, to_units, tokenize

REPO = Path(__file__).resolve().parents[1]


def reports(src: Path, level: str, times: int, folder: Path) -> Path:
    """The reports of ``level`` repeated ``times`` times into one ``.jsonl.gz``."""
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        records = [r for r in map(json.loads, fh) if level == "all" or r.get("level") == level]
    out = folder / f"reports_{level}_x{times}.jsonl.gz"
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        for rep in range(times):
            for rec in records:
                fh.write(json.dumps({**rec, "id": f"{rec['id']}-r{rep}"}, ensure_ascii=False) + "\n")
    return out


def timed(repeat: int, fn, cpu=time.process_time) -> tuple[float, float, float, object]:
    """First-call wall seconds, best wall seconds of ``repeat`` calls, the CPU seconds (``cpu()``
    before and after) of that best call, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), cpu()
        result = fn()
        times.append((time.perf_counter() - t, cpu() - c))
    best = min(times)
    return times[0][0], best[0], best[1], result


def cluster_cpu(client) -> float:
    """CPU seconds used so far by this process and every worker of ``client``."""
    return time.process_time() + sum(client.run(time.process_time).values())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--level", default="city", help="city, province, national or all (default: city)")
    p.add_argument("--times", type=int, default=4, help="repeat the reports this many times (default: 4)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = reports(a.data / "gov_work_reports" / "docs.jsonl.gz", a.level, a.times, Path(tmp))
        s = RunSettings(sources=[str(source)], unit="paragraph", cache=False)
        t = time.perf_counter()
        docs = ingest(s)
        units = to_units(docs, s)
        t_ingest = time.perf_counter() - t
    chars = int(sum(map(len, units.texts)))
    print(f"{len(docs.docs)} documents ({a.level} reports x{a.times}), {len(units)} paragraphs, "
          f"{chars / 1e6:.2f} M characters; ingest (local in both engines) {t_ingest:.1f} s")

    def counting(settings: RunSettings, client=None):
        return count(docs, tokenize(units, settings, False, client))

    rows = []
    for n in sorted({1, a.workers}):
        cold, best, cpu, local = timed(a.repeat, lambda: counting(RunSettings(cache=False, n_jobs=n)))
        # forked workers' CPU is not this process's: only the 1-process figure has one
        rows.append((f"local, {n} process{'es' if n > 1 else ''}", n, cold, best, cpu if n == 1 else None))
        if n == 1:
            reference = local
    t = time.perf_counter()
    with cluster(None, a.workers) as (client, record):
        startup = time.perf_counter() - t
        cold, best, cpu, distributed = timed(a.repeat, lambda: counting(RunSettings(cache=False), client),
                                             lambda: cluster_cpu(client))
    rows.append((f"dask, LocalCluster {record['workers']} workers", record["threads"], cold, best, cpu))

    (d_ref, t_ref), (d_dask, t_dask) = reference, distributed
    for name in ("documents", "terms"):
        assert t_ref[name].equals(t_dask[name]), f"{name} differ between the engines"
    assert (d_ref.vocabulary == d_dask.vocabulary).all() and (d_ref.matrix != d_dask.matrix).nnz == 0
    assert np.array_equal(d_ref.matrix.indptr, d_dask.matrix.indptr)

    base, base_cpu = chars / rows[0][3], chars / rows[0][4]
    print(f"dask {record['dask']}, cluster start-up {startup:.1f} s (once per run); tables identical: yes\n")
    print(f"{'engine':<30} {'cores':>5} {'cold s':>7} {'best s':>7} {'chars/s/core':>13} {'ratio':>6} "
          f"{'speed ratio':>12} {'CPU s':>6} {'chars/CPU s':>12} {'ratio':>6}")
    for name, n, cold, best, cpu in rows:
        per_core = chars / best / n
        cpu_cols = f"{cpu:6.2f} {chars / cpu:12,.0f} {chars / cpu / base_cpu:6.2f}" if cpu else f"{'-':>6} {'-':>12} {'-':>6}"
        print(f"{name:<30} {n:>5} {cold:7.2f} {best:7.2f} {per_core:13,.0f} {per_core / base:6.2f} "
              f"{chars / best / base:12.2f} {cpu_cols}")

if __name__ == "__main__":
    main()
